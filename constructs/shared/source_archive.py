"""Function sources packaged reproducibly at synth time.

cdktf's own ARCHIVE assets zip with file modification times, so a fresh checkout gives
new bytes, a new MD5 and a needless object change in every plan. Here entries are
sorted, timestamps fixed and modes normalised: the same files give the same zip, the
same asset hash and an unchanged plan.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

from cdktf import AssetType, TerraformAsset
from constructs import Construct

from constructs.google import storage_bucket
from constructs.shared.sites import place
from environments.config import BUCKET_CONTENT_LABEL, REBUILT_CONTENT, EnvironmentConfig

ROOT = Path(__file__).resolve().parents[2]  # the project: functions/ and .gen/ sit there
BUILD_DIR = ROOT / ".gen" / "sources"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry


def reproducible_zip(source_dir: Path) -> bytes:
    if not source_dir.is_dir():  # an empty zip would deploy a function with no code
        raise FileNotFoundError(f"function source folder {source_dir} does not exist")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(p for p in source_dir.rglob("*") if p.is_file()):
            relative = path.relative_to(source_dir).as_posix()
            if "node_modules" in relative.split("/") or relative.endswith(".pyc"):
                continue
            info = zipfile.ZipInfo(relative, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes(), compresslevel=9)
    return buffer.getvalue()


class SourceArchive(Construct):
    """A folder of function source as a content-addressed zip asset.

    `path` is the asset's path for a `google_storage_bucket_object`; `object_name` carries
    the content hash, so a changed source uploads a new object and redeploys the function.
    """

    def __init__(self, scope: Construct, id_: str, *, source_dir: Path, name: str):
        super().__init__(scope, id_)
        data = reproducible_zip(source_dir)
        digest = hashlib.sha256(data).hexdigest()[:16]
        BUILD_DIR.mkdir(parents=True, exist_ok=True)
        zip_path = BUILD_DIR / f"{name}-{digest}.zip"
        if not zip_path.exists():
            partial = zip_path.with_suffix(f".{id(self)}.partial")
            partial.write_bytes(data)
            partial.replace(zip_path)  # atomic: parallel synths never see half a zip
        self.asset = TerraformAsset(self, "asset", path=str(zip_path), type=AssetType.FILE)
        self.object_name = f"{name}/{name}-{digest}.zip"
        self.digest = digest

    @property
    def path(self) -> str:
        return self.asset.path


def function_source_bucket(scope: Construct, id_: str, *, config: EnvironmentConfig, component: str,
                           labels: dict[str, str], depends_on: list | None = None) -> storage_bucket.StorageBucket:
    """A private bucket for function source zips in the active region: versioned, old versions
    expire after 30 days. Named per site (bucket names are global), placed like every regional
    resource (constructs/shared/sites.py).

    Its objects are rebuilt from the repository (or published by CI), so a destroy may empty it.
    """
    bucket = storage_bucket.StorageBucket(
        scope,
        id_,
        name=config.site_bucket_name(component, config.disaster_recovery.active_site),
        location=config.active_region,
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        versioning=storage_bucket.StorageBucketVersioning(enabled=True),
        lifecycle_rule=[storage_bucket.StorageBucketLifecycleRule(
            action=storage_bucket.StorageBucketLifecycleRuleAction(type="Delete"),
            condition=storage_bucket.StorageBucketLifecycleRuleCondition(days_since_noncurrent_time=30),
        )],
        force_destroy=not config.is_production,
        # Tells make diff and the policy pack that a replacement loses nothing the stack cannot upload again.
        labels={**labels, BUCKET_CONTENT_LABEL: REBUILT_CONTENT},
        depends_on=depends_on,
    )
    place(bucket, config)
    return bucket
