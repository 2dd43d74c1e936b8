"""(Being built.)"""
from django.http import HttpResponse



def scan_edit(request, **kwargs):
    return HttpResponse("not built yet")


def scan_new(request, **kwargs):
    return HttpResponse("not built yet")
