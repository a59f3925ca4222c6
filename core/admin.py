from django.contrib import admin

from .models import AuditEvent, OutboundEmail


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["created_at", "action", "object_type", "object_id", "actor"]
    list_filter = ["action"]
    search_fields = ["object_id", "object_repr", "actor__email"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["created_at", "subject", "status", "attempts"]
    list_filter = ["status"]
    exclude = ["redacted_body"]  # the body without its secret links: it replaces the body once sent
    search_fields = ["message_id", "subject"]
