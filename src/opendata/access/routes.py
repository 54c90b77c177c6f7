"""Every HTTP handler of access (and of the audit trail), for the plugin to mount.

The JWKS handler is at ``/.well-known/jwks.json`` under the plugin's prefix.
"""

from opendata.access.admin_api import AdminAccountsController
from opendata.access.api import AuthController, ClientsController
from opendata.access.applications_api import ApplicationsController, LicencesController
from opendata.access.audit_api import AuditController
from opendata.access.datasets_api import DatasetEditController
from opendata.access.token_api import TOKEN_HANDLERS

ACCESS_HANDLERS = [
    AuthController, ClientsController, ApplicationsController, LicencesController, AuditController,
    DatasetEditController, AdminAccountsController, *TOKEN_HANDLERS,
]
