"""(Being built.)"""
from django.http import HttpResponse



def instance_delete(request, **kwargs):
    return HttpResponse("not built yet")


def record_home(request, **kwargs):
    return HttpResponse("not built yet")


def record_new(request, **kwargs):
    return HttpResponse("not built yet")
