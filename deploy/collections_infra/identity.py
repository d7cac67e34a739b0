"""The Cognito user pool (e-mail sign-in) and the web app's public client.

Mirrors ``collections_devtools.provision``: the same password policy, a client without a secret
that allows USER_PASSWORD_AUTH and refresh tokens (the gateway's ``/auth/*`` routes call
InitiateAuth for the browser), access and id tokens valid one hour, refresh tokens 30 days.
Users confirm their e-mail address in production; only the local stacks auto-confirm.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from collections_infra.config import StageConfig

PASSWORD_POLICY = cognito.PasswordPolicy(
    min_length=8,
    require_uppercase=True,
    require_lowercase=True,
    require_digits=True,
    require_symbols=False,
    temp_password_validity=Duration.days(3),
)


class Identity(Construct):
    """``user_pool`` and ``client``."""

    def __init__(self, scope: Construct, construct_id: str, *, config: StageConfig) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"{config.prefix}-users",
            self_sign_up_enabled=True,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            keep_original=cognito.KeepOriginalAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            password_policy=PASSWORD_POLICY,
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            # Lite covers password sign-in; no advanced-security features are used.
            feature_plan=cognito.FeaturePlan.LITE,
            deletion_protection=config.retain_data,
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )
        self.client = self.user_pool.add_client(
            "WebClient",
            user_pool_client_name=f"{config.prefix}-web",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_password=True),
            # Services verify access tokens locally, so a sign-out cannot recall one already
            # issued: keep their life short (the web UI refreshes on a 401).
            access_token_validity=Duration.minutes(15),
            id_token_validity=Duration.minutes(15),
            refresh_token_validity=Duration.days(30),
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
        )
