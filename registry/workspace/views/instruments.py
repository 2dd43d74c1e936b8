"""(Being built.)"""
from django.http import HttpResponse



def instance_edit(request, **kwargs):
    return HttpResponse("not built yet")


def instance_new(request, **kwargs):
    return HttpResponse("not built yet")


def record_form(request, **kwargs):
    return HttpResponse("not built yet")
