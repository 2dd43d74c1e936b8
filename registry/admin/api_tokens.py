"""API tokens in the admin: create one (its secret is shown once, on the page after saving), see
when each was last used, revoke. Administrators manage everyone's; other users with a registry role
their own. A token is never edited or deleted: it is revoked, and stays listed."""
from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model

from registry.models import Role
from registry.models.api_tokens import ApiToken
from registry.selectors.access import access_for
from registry.services.api_tokens import api_token_create, api_token_revoke

from .mixins import NulParametersRefusedMixin, UnseenIsMissingMixin


class ApiTokenCreationForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("user", "name")


@admin.register(ApiToken)
class ApiTokenAdmin(NulParametersRefusedMixin, UnseenIsMissingMixin, admin.ModelAdmin):
    list_display = ("prefix", "name", "user", "created_at", "last_used_at", "state")
    list_select_related = ("user",)
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    actions = ("revoke_tokens",)
    readonly_fields = ("user", "name", "prefix", "created_at", "created_by", "last_used_at", "revoked_at")

    def _is_administrator(self, request) -> bool:
        return access_for(request.user).role == Role.ADMINISTRATOR

    def _has_role(self, request) -> bool:
        return access_for(request.user).role is not None

    def has_module_permission(self, request):
        return self._has_role(request)

    def has_view_permission(self, request, obj=None):
        return self._has_role(request) and (obj is None or self._is_administrator(request) or obj.user_id == request.user.pk)

    def has_add_permission(self, request):
        return self._has_role(request)

    def has_change_permission(self, request, obj=None):
        return False  # revoked, never edited

    def has_delete_permission(self, request, obj=None):
        return False  # revoked instead, so that the audit trail can still name it

    def get_queryset(self, request):
        tokens = super().get_queryset(request)
        return tokens if self._is_administrator(request) else tokens.filter(user=request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ApiTokenCreationForm
            kwargs["fields"] = ("user", "name") if self._is_administrator(request) else ("name",)
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = get_user_model().objects.filter(is_active=True).order_by("username")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        owner = form.cleaned_data.get("user") or request.user
        token, secret = api_token_create(user=owner, name=form.cleaned_data["name"], created_by=request.user)
        for field in ApiToken._meta.concrete_fields:  # the admin's log entry and redirect use the saved row
            setattr(obj, field.attname, getattr(token, field.attname))
        messages.warning(
            request,
            f"The new token for {owner}: {secret} — copy it now; it is not stored and will not be shown again.",
        )

    @admin.display(description="state")
    def state(self, obj):
        return "revoked" if obj.revoked_at else "active"

    @admin.action(description="Revoke the selected tokens")
    def revoke_tokens(self, request, queryset):
        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(token=token, by=request.user)
            revoked += 1
        self.message_user(request, f"Revoked {revoked} token{'s' if revoked != 1 else ''}.")
