"""Sign-up form."""

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.contrib.auth.models import User


class SignupForm(UserCreationForm):
    """Create a student account: username, optional e-mail, password twice."""

    email = forms.EmailField(required=False, help_text="Optional; only used to reset a forgotten password.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")


class ApiTokenForm(forms.Form):
    """Make an API token: what it is for, and how many days it lasts."""

    name = forms.CharField(max_length=80, help_text="What it is for, e.g. “marking script”.")
    days = forms.IntegerField(
        label="Lasts (days)", min_value=1, max_value=365, help_text="From 1 to 365 days; then it stops working."
    )
