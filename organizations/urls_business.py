"""Business portal URLs of the organizations app, mounted under /business/ (namespace
"business") by ``cers.urls`` together with the facilities app's patterns. The organization's
home page is ``portal.urls_business``."""

from django.urls import path

from .views import business as views

urlpatterns = [
    path("start/", views.StartView.as_view(), name="start"),
    path("organizations/new/", views.OrganizationCreateView.as_view(), name="organization_create"),
    path("organizations/join/", views.JoinRequestCreateView.as_view(), name="join_request_create"),
    path(
        "organizations/switch/",
        views.SwitchOrganizationView.as_view(),
        name="switch_organization",
    ),
    path("organization/", views.OrganizationEditView.as_view(), name="organization_edit"),
    path("people/", views.PeopleView.as_view(), name="people"),
    path("people/<int:pk>/role/", views.MemberRoleView.as_view(), name="member_role"),
    path("people/<int:pk>/remove/", views.MemberRemoveView.as_view(), name="member_remove"),
    path(
        "people/invitations/<int:pk>/revoke/",
        views.InvitationRevokeView.as_view(),
        name="invitation_revoke",
    ),
    path("join-requests/", views.JoinRequestListView.as_view(), name="join_requests"),
    path(
        "join-requests/<int:pk>/decide/",
        views.JoinRequestDecideView.as_view(),
        name="join_request_decide",
    ),
]
