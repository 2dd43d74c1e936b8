"""(Being built.)"""
from django.http import HttpResponse



def records(request, **kwargs):
    return HttpResponse("not built yet")


def worklist(request, **kwargs):
    return HttpResponse("not built yet")
