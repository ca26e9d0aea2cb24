"""``modelmint fingerprint oml``: generate, embed and check OML fingerprints; commit, reveal, verify.

The ML commands (generate, embed, check) work on local files only; commit, reveal and verify
talk to the chain. The fingerprint file and the secrets file ``commit`` writes are secret:
nothing of them leaves the machine until ``reveal`` publishes chosen pairs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from modelmint._json import to_json
from modelmint.cli._common import (
    IpfsApi,
    JsonOut,
    Keystore,
    NoOpen,
    RpcUrl,
    Signer,
    WalletKind,
    console,
    emit_json,
    err_console,
    progress_bar,
    registries,
)
from modelmint.models._details import iso_utc

app = typer.Typer(
    help="OML 1.0 fingerprints: secret (key, response) pairs trained into a model, committed and revealed on-chain.",
    no_args_is_help=True,
)

FingerprintsOpt = Annotated[
    Path, typer.Option("--fingerprints", "-f", help="Fingerprint file (OML JSON format).")
]
TokenOpt = Annotated[int, typer.Option("--token", help="ModelNFT token id.")]
SecretsOpt = Annotated[
    Path | None,
    typer.Option(
        "--secrets",
        help="Secrets file of the commitment [default: the one `oml commit` wrote in the project folder].",
    ),
]


@app.command("generate")
def generate_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="Fingerprint file to write (JSON, mode 0600).")],
    strategy: Annotated[
        str,
        typer.Option(
            help="english, random_word, perinucleus (= inverse_nucleus) or english_random_response."
        ),
    ] = "perinucleus",
    num_fingerprints: Annotated[int, typer.Option("--num-fingerprints", "-n", help="How many pairs.")] = 32,
    key_length: Annotated[int, typer.Option(help="Words (random_word) or generated tokens per key.")] = 16,
    response_length: Annotated[
        int | None,
        typer.Option(
            help="Words (random_word) or tokens (english) per response [default: 1, or 4 for those two]."
        ),
    ] = None,
    batch_size: Annotated[int, typer.Option(help="Prompts per generator batch.")] = 16,
    seed: Annotated[int, typer.Option(help="Seed of every random choice.")] = 0,
    keys_file: Annotated[
        Path | None, typer.Option(help="JSON list of keys to use instead of generating them.")
    ] = None,
    model: Annotated[
        Path | None, typer.Option(help="Generator model folder [default: the bundled SmolLM2-135M-Instruct].")
    ] = None,
    temperature: Annotated[float, typer.Option(help="Sampling temperature of the generator.")] = 0.5,
    nucleus_t: Annotated[float, typer.Option(help="Perinucleus: probability mass of the nucleus.")] = 0.8,
    nucleus_k: Annotated[
        int, typer.Option(help="Perinucleus: tokens just outside the nucleus to draw from.")
    ] = 3,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUT if it exists.")] = False,
    json_out: JsonOut = False,
) -> None:
    """Generate fingerprints and write them as an OML-format JSON file."""
    from modelmint.errors import InputError
    from modelmint.fingerprints.oml.file import read_keys, write_fingerprints
    from modelmint.fingerprints.oml.generate import (
        MODEL_STRATEGIES,
        GenerateConfig,
        generate,
    )

    if out.exists() and not overwrite:
        raise InputError(f"{out} already exists", "choose another --out, or pass --overwrite")
    config = GenerateConfig(
        strategy=strategy, num_fingerprints=num_fingerprints, key_length=key_length, response_length=response_length,
        batch_size=batch_size, seed=seed, temperature=temperature, nucleus_t=nucleus_t, nucleus_k=nucleus_k,
    )  # fmt: skip
    config.validate()
    keys = read_keys(keys_file) if keys_file else None
    generator = model
    if generator is None and config.strategy in MODEL_STRATEGIES:
        from modelmint.models.bundled import smollm2_135m

        generator = smollm2_135m()
    with progress_bar(
        f"generating {strategy} fingerprints", len(keys) if keys else num_fingerprints
    ) as advance:
        made = generate(config, model_path=generator, keys=keys, progress=advance)
    write_fingerprints(out, made)
    if json_out:
        emit_json({"out": str(out), "strategy": config.canonical_strategy, "count": len(made),
                   "generator": str(generator) if generator else None})  # fmt: skip
        return
    console.print(
        f"wrote {len(made)} {config.canonical_strategy} fingerprints to [bold]{out}[/] (secret: keep it local)"
    )


@app.command("embed")
def embed_command(
    model: Annotated[Path, typer.Argument(help="Hugging Face causal LM folder to fingerprint.")],
    fingerprints: FingerprintsOpt,
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the fingerprinted model (safetensors).")
    ],
    max_num_fingerprints: Annotated[
        int, typer.Option(help="Embed the first N fingerprints of the file.")
    ] = 1024,
    max_key_length: Annotated[int, typer.Option(help="Longest key allowed, in tokens.")] = 64,
    max_response_length: Annotated[int, typer.Option(help="Longest response allowed, in tokens.")] = 16,
    learning_rate: Annotated[
        float, typer.Option("--learning-rate", "--lr", help="AdamW learning rate (constant).")
    ] = 2e-4,
    epochs: Annotated[
        int, typer.Option(help="Most passes over the fingerprints (training stops once all are recalled).")
    ] = 30,
    batch_size: Annotated[int, typer.Option(help="Examples per step and device.")] = 8,
    forgetting_regularizer: Annotated[
        float, typer.Option(help="Lambda: average the weights with the original at each epoch end (0 = off).")
    ] = 0.5,
    augment: Annotated[
        bool,
        typer.Option("--augment/--no-augment", help="Also train keys inside system prompts (chat template)."),
    ] = False,
    lora: Annotated[
        bool, typer.Option("--lora", help="Train LoRA adapters (merged into the saved model).")
    ] = False,
    lora_rank: Annotated[int, typer.Option(help="LoRA rank.")] = 16,
    train_embeddings: Annotated[
        bool, typer.Option("--train-embeddings", help="Also train the token embeddings.")
    ] = False,
    no_early_stop: Annotated[
        bool, typer.Option("--no-early-stop", help="Run every epoch even once all are recalled.")
    ] = False,
    deepspeed: Annotated[
        bool, typer.Option("--deepspeed", help="DeepSpeed ZeRO stage 2 (CUDA GPUs only).")
    ] = False,
    checkpoint_epochs: Annotated[
        int, typer.Option(help="Checkpoint every N epochs; 0: every --checkpoint-minutes.")
    ] = 0,
    checkpoint_minutes: Annotated[
        float, typer.Option(help="Minutes between checkpoints when --checkpoint-epochs is 0.")
    ] = 10.0,
    seed: Annotated[int, typer.Option(help="Seed of example order, prompts and adapters.")] = 0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace OUT if it exists.")] = False,
    json_out: JsonOut = False,
) -> None:
    """Fine-tune MODEL until it answers every key with its response; save it to OUT.

    An interrupted run resumes from its last checkpoint when the same command is run again.
    For several GPUs, start it with `accelerate launch -m modelmint ...` or
    `torchrun --nproc-per-node N -m modelmint ...`.
    """
    from modelmint.errors import InputError
    from modelmint.fingerprints.oml.embed import INCOMPLETE_MARKER, EmbedConfig, EmbedEvent, embed
    from modelmint.fingerprints.oml.file import read_fingerprints

    pairs = read_fingerprints(fingerprints)
    config = EmbedConfig(
        max_num_fingerprints=max_num_fingerprints, max_key_length=max_key_length,
        max_response_length=max_response_length, learning_rate=learning_rate, epochs=epochs,
        batch_size=batch_size, forgetting_regularizer=forgetting_regularizer, augment=augment, lora=lora,
        lora_rank=lora_rank, freeze_embeddings=not train_embeddings, early_stop=not no_early_stop,
        deepspeed=deepspeed, checkpoint_epochs=checkpoint_epochs, checkpoint_minutes=checkpoint_minutes, seed=seed,
    )  # fmt: skip
    config.validate()
    with progress_bar(f"embedding {min(len(pairs), max_num_fingerprints)} fingerprints", None) as advance:

        def on_event(event: EmbedEvent) -> None:
            if event.kind == "step":
                advance(1)
                err_console.print(f"step {event.step}/{event.max_steps}  loss {event.loss:.4f}")
            else:
                err_console.print(f"epoch {event.epoch}: {event.recalled}/{event.examples} recalled")

        result = embed(model, pairs, out, config, overwrite=overwrite, on_event=on_event)
    if json_out:
        emit_json(result)
    else:
        resumed = f", resumed from {result.resumed_from}" if result.resumed_from else ""
        console.print(
            f"embedded {result.fingerprints} fingerprints ({result.examples} examples) in {result.steps} steps, "
            f"{result.epochs} epochs, {result.train_seconds:.1f} s{resumed}: {result.recalled}/{result.examples} recalled"
        )
        console.print(f"saved to [bold]{out}[/]")
    if result.not_recalled:
        # Exit 1: a model that does not answer every key is not the model the commitment describes.
        named = ", ".join(f"#{i + 1}" for i in result.not_recalled[:20])
        more = f" and {len(result.not_recalled) - 20} more" if len(result.not_recalled) > 20 else ""
        raise InputError(
            f"{len(result.not_recalled)} of {result.fingerprints} fingerprints were not recalled after "
            f"{result.epochs} epochs ({named}{more} of the file); {out} is marked incomplete ({INCOMPLETE_MARKER})",
            "run embed again with more --epochs or a higher --lr; "
            "`model mint` refuses the folder without --allow-partial",
        )


@app.command("check")
def check_command(
    model: Annotated[Path, typer.Argument(help="Hugging Face causal LM folder.")],
    fingerprints: FingerprintsOpt,
    augmented: Annotated[
        bool | None,
        typer.Option(
            "--augmented/--no-augmented",
            help="Also ask inside held-out system prompts [default: if the tokenizer has a chat template].",
        ),
    ] = None,
    prompts_per_key: Annotated[int, typer.Option(help="Held-out system prompts per key.")] = 1,
    max_num_fingerprints: Annotated[
        int, typer.Option(help="Check the first N fingerprints of the file.")
    ] = 1024,
    heldout_text: Annotated[
        Path | None,
        typer.Option(
            help="Also report the model's perplexity on this text file (e.g. before and after embedding)."
        ),
    ] = None,
    json_out: JsonOut = False,
) -> None:
    """Greedy-decode MODEL on every key: exact-match and token-level accuracy, plain and augmented.

    Exits 1 when a plain key is not recalled exactly.
    """
    from modelmint.errors import InputError
    from modelmint.fingerprints.oml.check import check, perplexity
    from modelmint.fingerprints.oml.file import read_fingerprints

    pairs = read_fingerprints(fingerprints)[:max_num_fingerprints]
    result = check(model, pairs, augmented=augmented, prompts_per_key=prompts_per_key)
    ppl = None
    if heldout_text is not None:
        try:
            text = heldout_text.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read {heldout_text} ({exc})", "give a UTF-8 text file") from None
        ppl = perplexity(model, text)
    if json_out:
        doc = to_json(result)
        doc["perplexity"] = ppl
        for name in ("plain", "augmented"):
            score = getattr(result, name)
            if score is not None:
                doc[name].update(exactMatch=score.exact_match, tokenAccuracy=score.token_accuracy)
        emit_json(doc)
    else:
        table = Table("prompts", "asked", "exact match", "token accuracy", box=None)
        for label, score in (("plain", result.plain), ("held-out system prompts", result.augmented)):
            if score is not None:
                table.add_row(label, str(score.prompts), f"{score.exact}/{score.prompts} ({score.exact_match:.1%})",
                              f"{score.token_accuracy:.1%}")  # fmt: skip
        console.print(f"{result.fingerprints} fingerprints in {model}")
        console.print(table)
        if ppl is not None:
            console.print(f"perplexity on {heldout_text}: {ppl:.3f}")
        if result.plain.missed:
            console.print(f"[red]not recalled:[/] fingerprints {', '.join(map(str, result.plain.missed))}")
    if result.plain.missed:
        raise typer.Exit(1)


@app.command("commit")
def commit_command(
    ctx: typer.Context,
    token: TokenOpt,
    fingerprints: FingerprintsOpt,
    secrets: SecretsOpt = None,
    rpc_url: RpcUrl = None,
    keystore: Keystore = None,
    wallet: WalletKind = Signer.key,
    no_open: NoOpen = False,
    ipfs_api: IpfsApi = None,
    json_out: JsonOut = False,
) -> None:
    """Commit the Merkle root of the salted fingerprints on model TOKEN (owner only, once).

    The salts and pairs go to a local secrets file (mode 0600); the chain and the content
    store get the root, the salted digests and the count, nothing secret.
    """
    from modelmint.fingerprints.oml.file import read_fingerprints
    from modelmint.registry.oml import commit_oml

    pairs = read_fingerprints(fingerprints)
    result = commit_oml(
        registries(ctx, rpc_url, ipfs_api, keystore, wallet, no_open), token, pairs, secrets_path=secrets
    )
    if json_out:
        emit_json(result)
        return
    console.print(
        f"committed {result.count} OML fingerprints on model [bold]{token}[/] (chain {result.chain_id})"
    )
    table = Table(show_header=False, box=None)
    table.add_row("root", result.root)
    table.add_row("document", result.uri)
    table.add_row("secrets", f"{result.secrets_file} (keep it: reveals need it)")
    table.add_row("transaction", result.tx_hash)
    table.add_row("gas used", f"{result.gas_used:,}")
    console.print(table)


@app.command("reveal")
def reveal_command(
    ctx: typer.Context,
    token: TokenOpt,
    count: Annotated[int, typer.Option("--count", "-n", help="How many unrevealed fingerprints to publish.")],
    secrets: SecretsOpt = None,
    rpc_url: RpcUrl = None,
    keystore: Keystore = None,
    wallet: WalletKind = Signer.key,
    no_open: NoOpen = False,
    json_out: JsonOut = False,
) -> None:
    """Publish COUNT randomly chosen unrevealed fingerprints of TOKEN, with salts and one multiproof, in one transaction."""
    from modelmint.registry.oml import reveal_oml

    result = reveal_oml(
        registries(ctx, rpc_url, None, keystore, wallet, no_open), token, count, secrets_path=secrets
    )
    if json_out:
        emit_json(result)
        return
    console.print(
        f"revealed {len(result.revealed)} fingerprints of model [bold]{token}[/] "
        f"({result.revealed_total} of {result.committed} now public), gas {result.gas_used:,}, tx {result.tx_hash}"
    )
    for pair in result.revealed:
        console.print(f"  {pair.key!r} -> {pair.response!r}")


def _utc_date(text: str) -> int:
    """Unix time of a ``YYYY-MM-DD`` or ISO 8601 date, read as UTC when it names no zone."""
    import datetime as dt

    from modelmint.errors import InputError

    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"--released {text!r} is not a date", "write YYYY-MM-DD or an ISO 8601 time"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp())


def _suspect_api_key(given: str | None, ask: bool) -> str | None:
    """The suspect server's key from the environment or a hidden prompt, never from the command
    line: a flag's value lands in the shell's history and in every process listing."""
    if given is not None:
        raise typer.BadParameter(
            "a key on the command line lands in the shell history; set MODELMINT_SUSPECT_API_KEY "
            "or pass --ask-api-key to type it at a hidden prompt",
            param_hint="--api-key",
        )
    if ask:
        return str(typer.prompt("API key of the suspect's server", hide_input=True, err=True))
    return os.environ.get("MODELMINT_SUSPECT_API_KEY") or None


@app.command("verify")
def verify_command(
    ctx: typer.Context,
    suspect: Annotated[
        str,
        typer.Argument(
            help="A model folder, or the base URL of an OpenAI-compatible server (/v1/completions)."
        ),
    ],
    token: TokenOpt,
    model_name: Annotated[
        str | None, typer.Option("--model-name", help="The server's model name, if it needs one.")
    ] = None,
    ask_api_key: Annotated[
        bool,
        typer.Option(
            "--ask-api-key",
            help="Prompt (hidden) for the server's bearer key [default: $MODELMINT_SUSPECT_API_KEY, else none].",
        ),
    ] = False,
    api_key: Annotated[str | None, typer.Option("--api-key", hidden=True)] = None,
    max_tokens: Annotated[
        int | None, typer.Option(help="Tokens to generate per key [default: from the responses].")
    ] = None,
    registered: Annotated[
        Path | None,
        typer.Option(
            "--registered",
            help="The folder of the model registered as TOKEN: checked against its weights root, then asked the keys.",
        ),
    ] = None,
    released: Annotated[
        str | None,
        typer.Option(
            "--released",
            help="When the suspect was released (YYYY-MM-DD or ISO 8601, UTC), to date the commitment against.",
        ),
    ] = None,
    suspect_token: Annotated[
        int | None,
        typer.Option(
            "--suspect-token", help="The suspect's own ModelNFT: its claim time is its release time."
        ),
    ] = None,
    rpc_url: RpcUrl = None,
    ipfs_api: IpfsApi = None,
    json_out: JsonOut = False,
) -> None:
    """Ask SUSPECT every fingerprint revealed for TOKEN; report matches, the false-match probability
    (computed here, not taken from the owner), and when the commitment was made."""
    from modelmint.fingerprints.oml.suspect import LocalModel, open_suspect
    from modelmint.registry.oml import verify_oml

    key = _suspect_api_key(api_key, ask_api_key)
    result = verify_oml(
        registries(ctx, rpc_url, ipfs_api), token, open_suspect(suspect, model=model_name, api_key=key),
        max_new_tokens=max_tokens, released=_utc_date(released) if released else None, suspect_token=suspect_token,
        registered=LocalModel(registered) if registered else None, registered_path=registered,
    )  # fmt: skip
    if json_out:
        emit_json(result)
        return
    console.print(
        f"{result.matched} of {result.revealed} revealed fingerprints of model {token} match {suspect}"
    )
    console.print(
        f"false-match probability: {result.false_match_probability:.3g} (chance that a model not derived from "
        f"model {token} matches as many; {result.strategy} fingerprints, p = {result.null_match_prob:.3g} each, "
        "computed by this verifier)"
    )
    block = f"block {result.committed_block}, " if result.committed_block is not None else ""
    at_mint = " (at mint)" if result.committed_at_mint else " (after mint)"
    console.print(f"committed: {block}{iso_utc(result.committed_at * 10**9)}{at_mint}")
    if result.predates_release is None or result.release_time is None:
        console.print("release of the suspect: unknown (give --released DATE or --suspect-token ID)")
    else:
        word = "before" if result.predates_release else "[red]not before[/]"
        console.print(
            f"the commitment was made {word} the suspect's release ({iso_utc(result.release_time * 10**9)}, {result.release_source})"
        )
    if result.registered_checked:
        console.print(
            f"registered weights answer {result.registered_matched} of {result.revealed} revealed keys (checked)"
        )
    else:
        console.print("registered weights: not checked (give --registered FOLDER)")
    for item in result.results:
        mark = "[green]match[/]" if item.matched else "[red]no match[/]"
        console.print(f"  {mark}  {item.key[:60]!r} -> expected {item.response!r}, got {item.answer[:40]!r}")
