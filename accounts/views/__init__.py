"""Account pages: sign-up and activation, sign-in and sign-out, password reset, each
signed-in person's own account page (name, phone, title, password, e-mail address, previous
sign-in, the user agreements they accepted), and the portals' user agreements: open to anyone
to read, and accepted by a signed-in person before the portal's first page
(``accounts.agreements``).

Sign-in is throttled by django-axes (``accounts.lockout``): its middleware answers a lock-out
with ``accounts/locked_out.html``. Sign-up, a new activation link and the password reset are
rate-limited per client address and per e-mail address (``core.ratelimit``). The views
validate input and call ``accounts.services``; Django's own views do sign-in, sign-out and the
password reset.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import FormView, TemplateView

from core.forms import add_service_errors
from core.ratelimit import by_address, by_field, by_user, rate_limited

from .. import services
from ..agreements import AGREEMENTS, agreement_for, has_accepted, local_next
from ..forms import (
    AgreementForm,
    EmailAuthenticationForm,
    EmailChangeForm,
    PasswordChangeForm,
    PasswordResetRequestForm,
    ProfileForm,
    SignupForm,
)
from ..tokens import password_reset_tokens

# Where sign-up leaves what the next pages need: the address the link went to (for the
# "check your e-mail" page) and the page to return to once the account works.
SIGNUP_EMAIL_SESSION_KEY = "accounts_signup_email"
SIGNUP_NEXT_SESSION_KEY = "accounts_signup_next"
# The details an invitation page leaves for sign-up to start from (a person's details never
# travel in a URL, where server logs, proxies and the browser's history keep them).
SIGNUP_PREFILL_SESSION_KEY = "accounts_signup_prefill"
SIGNUP_PREFILL_FIELDS = ("email", "first_name", "last_name", "phone", "title")

# Each sends an e-mail: limited per client address, and per address written to.
SIGNUP_LIMIT = rate_limited("sign up", ("signup", by_address), ("email", by_field("email")))
ACTIVATION_LIMIT = rate_limited(
    "get a new activation link", ("signup", by_address), ("email", by_field("email"))
)
PASSWORD_CHANGE_LIMIT = rate_limited("change your password", ("password_change", by_user))
# Asking for a new e-mail address checks the current password too: one count per user with the
# password change, so an open session gets no more guesses from two forms; and it e-mails the
# address typed, counted with sign-up's e-mails to one address.
EMAIL_CHANGE_LIMIT = rate_limited(
    "change your e-mail address", ("password_change", by_user), ("email", by_field("email"))
)
RESET_LIMIT = rate_limited(
    "reset a password", ("password_reset", by_address), ("email", by_field("email"))
)


def safe_next(request, url: str | None) -> str:
    """``url`` if it is safe to redirect to (this host only), else ""."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return ""


def login_url(email: str = "", next_url: str = "") -> str:
    query = {key: value for key, value in (("email", email), ("next", next_url)) if value}
    url = reverse("accounts:login")
    return f"{url}?{urlencode(query)}" if query else url


@method_decorator(SIGNUP_LIMIT, name="post")
class SignupView(FormView):
    """Create an account; it stays inactive until the e-mailed link is opened.

    An invitation page leaves the invited person's address, name, phone and job title in the
    session (``SIGNUP_PREFILL_SESSION_KEY``) to prefill the form; ``?next=`` is kept for the
    sign-in page that follows activation.
    """

    template_name = "accounts/signup.html"
    form_class = SignupForm

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            return redirect("home")
        return super().dispatch(request, *args, **kwargs)

    def next_url(self) -> str:
        return safe_next(
            self.request, self.request.POST.get("next") or self.request.GET.get("next")
        )

    def get_initial(self):
        # What the invitation opened in this browser left: the address, and the name, phone
        # and job title the inviting Lead User gave (each a starting value the person may
        # change).
        details = self.request.session.get(SIGNUP_PREFILL_SESSION_KEY)
        if not isinstance(details, dict):
            return {}
        return {name: str(details.get(name) or "") for name in SIGNUP_PREFILL_FIELDS}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["next"] = self.next_url()
        context["login_url"] = login_url(next_url=self.next_url())
        return context

    def form_valid(self, form):
        try:
            services.register_user(**form.registration())
        except ValidationError as exc:
            form.add_error(None, exc)
            return self.form_invalid(form)
        # The same answer whether or not the address had an account: the e-mail says which.
        self.request.session.pop(SIGNUP_PREFILL_SESSION_KEY, None)
        self.request.session[SIGNUP_EMAIL_SESSION_KEY] = form.cleaned_data["email"]
        next_url = self.next_url()
        if next_url:
            self.request.session[SIGNUP_NEXT_SESSION_KEY] = next_url
        else:
            self.request.session.pop(SIGNUP_NEXT_SESSION_KEY, None)
        return redirect("accounts:signup_done")


class SignupDoneView(TemplateView):
    """ "Check your e-mail": names the address the activation link went to."""

    template_name = "accounts/signup_done.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["email"] = self.request.session.get(SIGNUP_EMAIL_SESSION_KEY, "")
        return context


class ActivateView(View):
    """Open the e-mailed activation link: the account becomes active, then sign in.

    A bad, used or expired link answers 400 with a page that says so, and changes nothing.
    """

    def get(self, request, uidb64, token):
        try:
            user = services.activate_user(uidb64=uidb64, token=token)
        except ValidationError as exc:
            return render(
                request,
                "accounts/activation_invalid.html",
                {"errors": exc.messages},
                status=400,
            )
        next_url = safe_next(request, request.GET.get("next")) or safe_next(
            request, request.session.pop(SIGNUP_NEXT_SESSION_KEY, None)
        )
        messages.success(
            request, f"Your e-mail address {user.email} is confirmed. Sign in to continue."
        )
        return redirect(login_url(email=user.email, next_url=next_url))


class LoginView(auth_views.LoginView):
    """Sign in with e-mail address and password; ``?next=`` is honoured when it is safe."""

    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_initial(self):
        return {"username": self.request.GET.get("email", "")}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["signup_url"] = reverse("accounts:signup") + (
            f"?{urlencode({'next': context['next']})}" if context.get("next") else ""
        )
        return context


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only), then back to the sign-in page."""

    next_page = reverse_lazy("accounts:login")


@method_decorator(RESET_LIMIT, name="post")
class PasswordResetView(FormView):
    """Ask for a reset link. The answer never tells whether the address has an account: the
    service e-mails the address either way."""

    template_name = "accounts/password_reset_form.html"
    form_class = PasswordResetRequestForm
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        services.request_password_reset(email=form.cleaned_data["email"])
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Set a new password from the e-mailed link. Never for an EDT service account."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    token_generator = password_reset_tokens

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        if user is not None and user.is_service_account:
            return None
        return user


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@method_decorator(ACTIVATION_LIMIT, name="post")
class ResendActivationView(View):
    """Send the activation link again, for someone whose link was lost or expired.

    The answer is the same whether or not an inactive account has that address.
    """

    template_name = "accounts/activation_resend.html"

    def get(self, request):
        return render(request, self.template_name, {"email": request.GET.get("email", "")})

    def post(self, request):
        email = request.POST.get("email", "").strip()
        if "@" not in email:
            return render(
                request,
                self.template_name,
                {"email": email, "error": "Enter the e-mail address you signed up with."},
                status=400,
            )
        services.resend_activation(email=email)
        request.session[SIGNUP_EMAIL_SESSION_KEY] = email.lower()
        return redirect("accounts:signup_done")


class ProfileView(LoginRequiredMixin, FormView):
    """The signed-in person's account: their e-mail address (the account's name), when they
    signed in before this sign-in, and their name, phone and job title to correct."""

    template_name = "accounts/profile.html"
    form_class = ProfileForm
    success_url = reverse_lazy("accounts:profile")

    def get_initial(self):
        user = self.request.user
        return {name: getattr(user, name) for name in services.PROFILE_FIELDS}

    def get_context_data(self, **kwargs):
        # A version a person accepted each time an agreement changed: a few rows at most.
        acceptances = list(self.request.user.agreement_acceptances.order_by("-accepted_at", "-pk"))
        for acceptance in acceptances:
            acceptance.agreement = AGREEMENTS[acceptance.portal]
            acceptance.is_current = acceptance.version == acceptance.agreement.version
        return super().get_context_data(
            acceptances=acceptances, agreements=AGREEMENTS.values(), **kwargs
        )

    def form_valid(self, form):
        try:
            services.update_profile(actor=self.request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(self.request, "Your details are saved.")
        return super().form_valid(form)


@method_decorator(PASSWORD_CHANGE_LIMIT, name="post")
class PasswordChangeView(LoginRequiredMixin, FormView):
    """Change one's password, knowing the current one. The session stays signed in; the
    account's other sessions are signed out (their hash no longer matches), and the address
    is told by e-mail."""

    template_name = "accounts/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form):
        try:
            user = services.change_password(
                actor=self.request.user,
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        update_session_auth_hash(self.request, user)
        messages.success(self.request, "Your password is changed.")
        return super().form_valid(form)


@method_decorator(EMAIL_CHANGE_LIMIT, name="post")
class EmailChangeView(LoginRequiredMixin, FormView):
    """Ask to sign in with another e-mail address, knowing the current password. Nothing
    changes until the link e-mailed to the new address is followed; the current address is
    told that the change was asked."""

    template_name = "accounts/email_change.html"
    form_class = EmailChangeForm
    success_url = reverse_lazy("accounts:profile")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["valid_hours"] = services.link_hours(settings.CERS_EMAIL_CHANGE_TIMEOUT)
        return context

    def form_valid(self, form):
        new_email = form.cleaned_data["email"]
        try:
            services.request_email_change(
                actor=self.request.user,
                new_email=new_email,
                current_password=form.cleaned_data["current_password"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        # The same words whether or not another account has the address: the e-mail to it
        # says which, as sign-up does.
        messages.success(
            self.request,
            f"We e-mailed a link to {new_email}. Your address changes when you open it; until "
            f"then you sign in with {self.request.user.email}.",
        )
        return super().form_valid(form)


class EmailChangeConfirmView(View):
    """The link e-mailed to the new address: a page that names the change and a button that
    makes it (so that a mail program opening links to look at them changes nothing). Signed
    in as the account or not at all; anyone else signed in is refused (403). A bad, used or
    expired link answers 400, an address another account took meanwhile 409: each a page
    saying so, with the way to ask again."""

    template_name = "accounts/email_change_confirm.html"
    refusal_template = "accounts/email_change_invalid.html"

    def link(self) -> tuple[str, str, str]:
        return self.kwargs["uidb64"], self.kwargs["emailb64"], self.kwargs["token"]

    def refused(self, exc, status: int):
        errors = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        return render(
            self.request,
            self.refusal_template,
            {"errors": errors, "other_account": status == 403, "taken": status == 409},
            status=status,
        )

    def get(self, request, **kwargs):
        try:
            user, new_email = services.email_change_from_link(self.link(), actor=request.user)
        except PermissionDenied as exc:
            return self.refused(exc, 403)
        except ValidationError as exc:
            return self.refused(exc, 400)
        return render(
            request,
            self.template_name,
            {"account": user, "new_email": new_email, "signed_in": request.user.is_authenticated},
        )

    def post(self, request, **kwargs):
        try:
            user = services.confirm_email_change(actor=request.user, link=self.link())
        except PermissionDenied as exc:
            return self.refused(exc, 403)
        except ValidationError as exc:
            return self.refused(exc, 409 if exc.code == "address_in_use" else 400)
        messages.success(request, f"Your e-mail address is now {user.email}.")
        if request.user.is_authenticated:
            return redirect("accounts:profile")
        return redirect(login_url(email=user.email))


class AgreementMixin:
    """A page about one portal's user agreement, named by the URL (404 for any other)."""

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        try:
            self.agreement = agreement_for(kwargs["portal"])
        except LookupError:
            raise Http404("There is no such user agreement.") from None


class AgreementView(AgreementMixin, TemplateView):
    """A portal's user agreement in its current version, for anyone to read."""

    template_name = "accounts/agreement.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        accepted = user.is_authenticated and has_accepted(user, self.agreement.portal)
        return super().get_context_data(agreement=self.agreement, accepted=accepted, **kwargs)


class AgreementAcceptView(AgreementMixin, LoginRequiredMixin, FormView):
    """Accept a portal's user agreement: its text, a box to tick and a button; then on to the
    page the person asked for (``?next=``, a path of this site only) or the portal's first
    page. Declining leaves them signed in, on their account page; the portal asks again at its
    next page."""

    template_name = "accounts/agreement_accept.html"
    form_class = AgreementForm

    def next_url(self) -> str:
        return local_next(self.request.POST.get("next") or self.request.GET.get("next"))

    def onward(self):
        return redirect(self.next_url() or self.agreement.home)

    def get(self, request, *args, **kwargs):
        if has_accepted(request.user, self.agreement.portal):
            return self.onward()
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        if "decline" in request.POST:
            messages.info(
                request,
                f"You did not accept the {self.agreement.title.lower()}, so the "
                f"{self.agreement.portal_label.lower()} stays closed to you. You are still "
                "signed in; the portal asks again when you open it.",
            )
            return redirect("accounts:profile")
        return super().post(request, *args, **kwargs)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "agreement": self.agreement}

    def get_context_data(self, **kwargs):
        return super().get_context_data(agreement=self.agreement, next=self.next_url(), **kwargs)

    def form_valid(self, form):
        try:
            services.accept_agreement(
                actor=self.request.user,
                portal=self.agreement.portal,
                version=self.request.POST.get("version", ""),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            return self.form_invalid(form)
        messages.success(
            self.request,
            f"You accepted the {self.agreement.title.lower()}, version {self.agreement.version}.",
        )
        return self.onward()
