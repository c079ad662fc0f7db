"""The `zhsearch` command line: index, search, stats, serve, evaluate, settings.

Imports point downward only (search, index, corpus); Flask and the web app are imported inside
`serve` alone, so indexing and searching from a terminal never load the web stack.
"""

from __future__ import annotations

import contextlib
import errno
import html
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from zhsearch.index.settings import Settings
from zhsearch.index.store import IndexProblem

_MARK = re.compile(r"(<mark>.*?</mark>)", re.S)


_OVERRIDES = "zhsearch_overrides"  # ctx.meta key: settings given as options, last one wins
_DEFAULTS = {name: (env, default) for name, env, default, _help in Settings.describe()}


def _settings(ctx: click.Context) -> Settings:
    """Defaults, then ZHSEARCH_* variables, then the options given (before or after the
    subcommand)."""
    try:
        return Settings.load(ctx.meta.get(_OVERRIDES, {}))
    except ValueError as exc:  # a ZHSEARCH_* variable that does not parse
        raise click.ClickException(str(exc)) from None


def _setting_help(name: str, text: str) -> str:
    """An option's help with the setting's default and variable, read from the settings table."""
    env, default = _DEFAULTS[name]
    shown = f"default {default}; " if default not in ("", None) and name != "index_dir" else ""
    return f"{text} ({shown}env {env})."


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    if value is not None and param.name:
        ctx.meta.setdefault(_OVERRIDES, {})[param.name] = value
    return value


_SHARED_OPTIONS = (
    click.option(
        "--index-dir",
        type=click.Path(file_okay=False, path_type=str),
        expose_value=False,
        callback=_remember,
        help=_setting_help("index_dir", "Directory holding the index"),
    ),
    click.option(
        "--user-dict",
        type=click.Path(dir_okay=False, path_type=str),
        expose_value=False,
        callback=_remember,
        help=_setting_help("user_dict", "Extra jieba dictionary, 'word [freq] [tag]' per line"),
    ),
    click.option(
        "--taxonomy",
        type=click.Path(dir_okay=False, path_type=str),
        expose_value=False,
        callback=_remember,
        help=_setting_help("taxonomy", "Industry taxonomy YAML file"),
    ),
)


def shared_options(command: Any) -> Any:
    """--index-dir, --user-dict and --taxonomy, on the group and on every command, so they work
    before or after the subcommand."""
    for option in reversed(_SHARED_OPTIONS):
        command = option(command)
    return command


def json_option(what: str) -> Any:
    """The --json flag every command has: print `what` as JSON instead of text."""
    return click.option("--json", "as_json", is_flag=True, help=f"Print {what} as JSON.")


@contextlib.contextmanager
def _user_errors() -> Iterator[None]:
    """Turn errors a user can act on into a one-line message and a non-zero exit, no traceback."""
    try:
        yield
    except IndexProblem as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        # A missing user dictionary or taxonomy, an index directory that is a file or read-only,
        # a full disk (ENOSPC) or a read-only file system (EROFS) while writing the index.
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        message = (
            exc.strerror if exc.strerror and (where or exc.errno == errno.ENOSPC) else str(exc)
        )
        if exc.errno == errno.ENOSPC:
            where += (
                " while writing the index; the last committed index keeps serving and the files"
                " this run wrote were removed. Free some space and run again"
            )
        raise click.ClickException(f"{message}{where}") from None


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@shared_options
@click.version_option(package_name="zhsearch")
def cli() -> None:
    """Full-text search for Chinese reports: index folders of articles, then search them.

    Every setting can also be given as a ZHSEARCH_* environment variable; `zhsearch settings`
    lists them all. --index-dir, --user-dict and --taxonomy work before or after the command.

    \b
    Example:
      zhsearch index ~/reports && zhsearch search '锂电池 负极材料'
    """


# --------------------------------------------------------------------------- index


@cli.command("index")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--rebuild", is_flag=True, help="Build a fresh index and switch to it atomically.")
@click.option(
    "--procs",
    type=int,
    help=_setting_help("procs", "Processes for a fresh build, e.g. one per core"),
)
@json_option("the report")
@shared_options
@click.pass_context
def index_cmd(
    ctx: click.Context, paths: tuple[Path, ...], rebuild: bool, procs: int | None, as_json: bool
) -> None:
    """Index files and folders of articles (txt, md, html, jsonl); no PATH: the bundled sample.

    Incremental by default: new and changed articles are written, articles of deleted files are
    removed and unchanged files are not read again. Exit status 1 when any file could not be
    read (everything else is still indexed).

    \b
    Examples:
      zhsearch index ~/reports news.jsonl
      zhsearch index --rebuild --procs 2 ~/reports
    """
    from tqdm import tqdm

    from zhsearch.index.writer import Indexer, default_paths, plan_files

    settings = _settings(ctx)
    if procs is not None:
        if procs < 1:
            raise click.ClickException("--procs must be at least 1")
        settings = settings.replace(procs=procs)
    roots = list(paths) or default_paths()
    with _user_errors():
        indexer = Indexer(settings)
        files, problems = plan_files(roots, settings)
        total = sum(_size(f) for f in files)
        with tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc="indexing",
            file=sys.stderr,
            disable=not _isatty(sys.stderr),
            leave=False,
        ) as bar:
            report = indexer.run(roots, rebuild=rebuild, progress=bar.update, files=files)
        report.problems[:0] = problems
    if as_json:
        _echo_json(report.to_dict())
    else:
        _print_report(report, settings)
    if report.failed:
        ctx.exit(1)


def _print_report(report: Any, settings: Settings) -> None:
    kind = "built" if report.rebuilt else "updated"
    click.echo(
        f"Index {kind} in {report.seconds:.2f} s: read {report.files} files, "
        f"{report.bytes / 1e6:.2f} MB at {report.mb_per_s:.2f} MB/s"
    )
    click.echo(
        f"  added {report.added}, updated {report.updated}, deleted {report.deleted}, "
        f"unchanged {report.unchanged}, failed {report.failed}"
    )
    click.echo(f"  {report.documents} documents in {Path(settings.index_dir) / report.generation}")
    if report.problems:
        click.echo(f"{report.failed} could not be read:", err=True)
        for problem in report.problems:
            click.echo(f"  {problem}", err=True)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _isatty(stream: Any) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


# --------------------------------------------------------------------------- search


def search_options(command: Any) -> Any:
    """One option per declared search parameter but the query (`search.request.PARAMS`),
    taking values as the API does: `--region 140000 --from 2023 --highlight 0`."""
    from zhsearch.search.request import PARAMS, SORTS

    aliases = {"size": ("-n", "--limit"), "page": ("-p",)}
    metavars = {"codes": "CODE", "int": "N", "bool": "0|1", "text": "TEXT"}
    for param in reversed(PARAMS[1:]):
        command = click.option(
            f"--{param.name}",
            *aliases.get(param.name, ()),
            param.attr,
            multiple=param.kind == "codes",
            type=click.Choice(SORTS) if param.kind == "choice" else str,
            metavar=metavars.get(param.kind),
            help=param.help + (" Repeatable." if param.kind == "codes" else ""),
        )(command)
    return command


@cli.command("search")
@click.argument("query")
@search_options
@json_option("the same result as the API")
@shared_options
@click.pass_context
def search_cmd(ctx: click.Context, query: str, as_json: bool, **given: Any) -> None:
    """Search the index from a terminal, with the same engine as the web page and API.

    Words are ANDed; OR, -word, "exact phrase" and title:word work as on the web page. Every
    parameter of the API is an option.

    \b
    Examples:
      zhsearch search '锂电池 负极材料' --region 140000
      zhsearch search '"锂电负极材料"' --sort date --from 2024 --json
    """
    from zhsearch.search.context import open_context
    from zhsearch.search.request import PARAMS, BadRequest, SearchRequest
    from zhsearch.search.run import run_search

    settings = _settings(ctx)
    params: dict[str, Any] = {"q": query}
    for param in PARAMS[1:]:
        value = given[param.attr]
        if value not in (None, ()):
            params[param.name] = list(value) if param.kind == "codes" else value
    with _user_errors():
        try:
            request = SearchRequest.from_params(params, settings)
            with open_context(settings) as search_ctx:
                result = run_search(request, search_ctx)
        except BadRequest as exc:  # also raised by run_search, e.g. for an unknown region
            raise click.ClickException(exc.message) from None
    data = result.to_dict()
    if as_json:
        _echo_json(data)
    else:
        _print_result(data)


_SINGULAR = {"regions": "province", "industries": "industry"}


def _print_result(data: dict[str, Any]) -> None:
    total, page, pages = data.get("total", 0), data.get("page", 1), data.get("pages", 1)
    took = data.get("took_ms", 0)
    click.echo(f"{total} results ({took} ms), page {page} of {max(pages, 1)}")
    for notice in data.get("notices") or []:
        text = notice.get("message", notice) if isinstance(notice, dict) else notice
        click.echo(click.style(f"note: {text}", fg="yellow"))
    for suggestion in data.get("suggestions") or []:
        click.echo(f"did you mean: {suggestion['label']} ({suggestion['total']} results)")
    first = (page - 1) * data.get("size", 0)
    for rank, hit in enumerate(data.get("hits", []), first + 1):
        click.echo()
        title = _highlight(
            hit.get("title_html") or html.escape(hit.get("title") or hit["id"]), True
        )
        click.echo(f"{rank}. {title}")
        region = hit.get("region") or {}
        facts = [
            hit.get("date") or "",
            hit.get("source") or "",
            (region.get("path") or "").replace("/", " › "),
            _industry_line(hit.get("industries") or []),
        ]
        line = " · ".join(f for f in facts if f)
        if line:
            click.echo(f"   {click.style(line, dim=True)}")
        snippet = _highlight(hit.get("snippet") or "")
        if snippet:
            click.echo(f"   {snippet}")
        click.echo(click.style(f"   id {hit['id']}", dim=True))


def _industry_line(items: list[Any], shown: int = 4) -> str:
    labels = [_industry_label(i) for i in items]
    more = f" +{len(labels) - shown}" if len(labels) > shown else ""
    return ", ".join(labels[:shown]) + more


def _industry_label(item: Any) -> str:
    if isinstance(item, dict):
        return str(item.get("label") or item.get("code") or "")
    return str(item)


def _highlight(fragment: str, bold: bool = False) -> str:
    """Escaped HTML with <mark> to terminal text: marks bold red, entities unescaped (click.echo
    strips the colour when stdout is not a terminal)."""
    out = []
    for piece in _MARK.split(fragment):
        if piece.startswith("<mark>") and piece.endswith("</mark>"):
            out.append(click.style(html.unescape(piece[6:-7]), fg="red", bold=True))
        elif piece:
            text = html.unescape(piece)
            out.append(click.style(text, bold=True) if bold else text)
    return "".join(out).replace("\n", " ")


# --------------------------------------------------------------------------- stats


@cli.command("stats")
@json_option("the statistics")
@shared_options
@click.pass_context
def stats_cmd(ctx: click.Context, as_json: bool) -> None:
    """Show documents, generation, size on disk, analyzer and counts per province and industry.

    \b
    Examples:
      zhsearch stats
      zhsearch --index-dir ./idx stats --json
    """
    from zhsearch.search.context import open_context
    from zhsearch.search.documents import index_stats

    settings = _settings(ctx)
    with _user_errors(), open_context(settings) as search_ctx:
        stats = index_stats(search_ctx)
    if as_json:
        _echo_json(stats)
        return
    labels = {"index_dir": "index dir", "size_bytes": "size on disk"}
    for key, value in stats.items():
        if isinstance(value, list):
            title = f"documents per {_SINGULAR.get(key, key)}"
            click.echo(f"{title}:" if value else f"{title}: none")
            for item in value:
                click.echo(f"  {item['value']:<8} {item['label']:<12} {item['count']:>7}")
        elif key == "size_bytes":
            click.echo(f"{labels[key]:<13} {value / 1e6:.2f} MB")
        else:
            click.echo(f"{labels.get(key, key):<13} {value}")


# --------------------------------------------------------------------------- serve


@cli.command("serve")
@click.option("--host", help=_setting_help("host", "Address to listen on"))
@click.option("--port", type=int, help=_setting_help("port", "Port to listen on"))
@click.option("--threads", type=int, help=_setting_help("threads", "Worker threads per process"))
@click.option(
    "--workers", type=int, help=_setting_help("workers", "Server processes, e.g. one per core")
)
@shared_options
@click.pass_context
def serve_cmd(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    threads: int | None,
    workers: int | None,
) -> None:
    """Serve the search page and JSON API with the production WSGI server (waitress).

    When no index exists yet, the bundled sample corpus is indexed first, so a fresh install
    serves something at once.

    \b
    Example:
      zhsearch serve --host 0.0.0.0 --port 8080 --workers 2
    """
    chosen = {"host": host, "port": port, "threads": threads, "workers": workers}
    settings = _settings(ctx).replace(**{k: v for k, v in chosen.items() if v is not None})
    if settings.workers < 1 or settings.threads < 1:
        raise click.ClickException("--workers and --threads must be at least 1")
    from zhsearch.index.sample import build_sample_if_empty
    from zhsearch.index.store import IndexMissing, IndexUnreadable, open_index

    with _user_errors():
        report = build_sample_if_empty(
            settings,
            lambda: click.echo(
                f"No index in {settings.index_dir} yet: indexing the bundled sample…"
            ),
        )
        if report is not None:
            click.echo(f"  {report.documents} documents indexed in {report.seconds:.1f} s")
        try:
            open_index(settings).close()
        except IndexMissing as exc:  # IndexUnreadable too: nothing to serve, nothing replaced
            message = str(exc) if isinstance(exc, IndexUnreadable) else _not_an_index(settings)
            raise click.ClickException(message) from None
        except IndexProblem as exc:  # outdated: serve anyway, pages say what is wrong
            click.echo(click.style(f"warning: {exc}", fg="yellow"), err=True)

    from zhsearch.web.serving import serve

    shown = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    if ":" in shown:
        shown = f"[{shown}]"
    click.echo(f"zhsearch serving {settings.index_dir} at http://{shown}:{settings.port}/")
    click.echo("Press Ctrl+C to stop.")
    try:
        serve(settings)
    except OSError as exc:  # address in use, no permission for a low port, unknown host
        raise click.ClickException(
            f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}"
        ) from None


def _not_an_index(settings: Settings) -> str:
    return (
        f"{settings.index_dir} is not empty and holds no zhsearch index: build one there with "
        "`zhsearch index PATH ...`, or choose an empty or new directory with --index-dir "
        "(serve builds the sample index only in an empty one)"
    )


# --------------------------------------------------------------------------- evaluate


@cli.command(
    "evaluate", context_settings={"ignore_unknown_options": True, "allow_extra_args": True}
)
@click.argument("labels", type=click.Path(exists=True, dir_okay=False, path_type=str))
@click.option(
    "--corpus",
    "corpora",
    multiple=True,
    type=click.Path(exists=True, path_type=str),
    help="File or folder the labelled articles come from; repeatable (default: the sample).",
)
@shared_options
@click.pass_context
def evaluate_cmd(ctx: click.Context, labels: str, corpora: tuple[str, ...]) -> None:
    """Score region and industry extraction against a labels file (precision, recall, F1).

    Other options (--json, --quiet) are passed on to the evaluator.

    \b
    Example:
      zhsearch evaluate ../shared/labels/seeds-gold.json --corpus ../shared/seeds
    """
    from zhsearch.corpus.evaluate import main

    settings = _settings(ctx)
    argv = [labels]
    for corpus in corpora:
        argv += ["--corpus", corpus]
    if settings.taxonomy:
        argv += ["--taxonomy", settings.taxonomy]
    if settings.user_dict:
        argv += ["--user-dict", settings.user_dict]
    with _user_errors():
        status = main([*argv, *ctx.args])
    ctx.exit(int(status or 0))


# --------------------------------------------------------------------------- settings


@cli.command("settings")
@json_option("the settings")
@shared_options
@click.pass_context
def settings_cmd(ctx: click.Context, as_json: bool) -> None:
    """List every setting: its environment variable, current value and what it does.

    Values come from defaults, then ZHSEARCH_* variables, then the global options.

    \b
    Example:
      ZHSEARCH_PORT=9000 zhsearch settings
    """
    settings = _settings(ctx)
    rows = [
        (name, env, getattr(settings, name), help_text)
        for name, env, _default, help_text in Settings.describe()
    ]
    if as_json:
        _echo_json([{"name": n, "env": e, "value": v, "help": h} for n, e, v, h in rows])
        return
    width = max(len(env) for _, env, _, _ in rows)
    for name, env, value, help_text in rows:
        click.echo(f"{click.style(env.ljust(width), bold=True)}  {value!r}")
        click.echo(f"{' ' * width}  {name}: {help_text}")


def main() -> None:  # pragma: no cover - `python -m zhsearch.web.cli`
    """Run the CLI."""
    cli(prog_name="zhsearch")


if __name__ == "__main__":  # pragma: no cover
    main()
