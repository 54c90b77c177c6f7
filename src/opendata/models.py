"""Imports every domain's tables so that Base.metadata knows the whole schema."""

from opendata import secrets  # noqa: F401
from opendata.access import models as access_models  # noqa: F401
from opendata.audit import models as audit_models  # noqa: F401
from opendata.catalogue import models as catalogue_models  # noqa: F401
from opendata.search import models as search_models  # noqa: F401
from opendata.compute import models as compute_models  # noqa: F401
from opendata.compute.jobs import models as compute_job_models  # noqa: F401
from opendata.demand import models as demand_models  # noqa: F401
from opendata.stats import models as stats_models  # noqa: F401
from opendata.assets import models as asset_models  # noqa: F401
from opendata.quality import models as quality_models  # noqa: F401
from opendata.versions import models as version_models  # noqa: F401
from opendata.subscriptions import models as subscription_models  # noqa: F401
from opendata.feedback import models as feedback_models  # noqa: F401
from opendata.showcase import models as showcase_models  # noqa: F401
