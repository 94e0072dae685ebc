"""Forms of the admin pages. A passphrase field never renders its value back."""

from django import forms
from django.utils.translation import gettext_lazy as _


class PassphraseField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Passphrase"))
        kwargs.setdefault("strip", False)
        kwargs.setdefault(
            "widget", forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
        )
        super().__init__(**kwargs)


class BackupForm(forms.Form):
    passphrase = PassphraseField(
        help_text=_("Encrypts the backup. It is not stored anywhere: without it the backup cannot be restored."),
    )
    passphrase2 = PassphraseField(label=_("Passphrase (again)"))

    def clean(self):
        data = super().clean()
        if data.get("passphrase") and data.get("passphrase2") is not None and data["passphrase"] != data["passphrase2"]:
            raise forms.ValidationError(_("The two passphrases differ."), code="mismatch")
        return data


class RestoreUploadForm(forms.Form):
    backup = forms.FileField(label=_("Backup file"))
    passphrase = PassphraseField(
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    dry_run = forms.BooleanField(
        label=_("Dry run"),
        required=False,
        initial=True,
        help_text=_("Decrypt, check and load everything inside a transaction that is rolled back: "
                    "see what a restore would do. Nothing is changed either way until you confirm."),
    )
    flush = forms.BooleanField(
        label=_("Replace"),
        required=False,
        help_text=_("Delete the backed-up models' rows first (otherwise the backup's rows are merged in)."),
    )


class RestoreConfirmForm(forms.Form):
    token = forms.CharField(widget=forms.HiddenInput)
    passphrase = PassphraseField(
        label=_("Passphrase (again, to confirm)"),
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    confirm = forms.BooleanField(label=_("Load this backup into the database now"), required=True)
