"""`reviewapp round create|list`: open a review round and list rounds from the command line."""

from __future__ import annotations

import click

from reviewapp.cli import cli_engine, cli_settings, round_group


@round_group.command("create")
@click.option("--name", required=True, help="Round name, e.g. 2026年度先进级智能工厂遴选.")
@click.option("--tier", required=True, help="基础级/先进级/卓越级/领航级 or basic/advanced/excellent/leading.")
@click.option("--year", type=int, default=None, help="Year of the round (default: this year, Beijing time).")
@click.option(
    "--criteria", "criteria_id", type=int, default=None, help="Criteria version id; a template is copied for the round."
)
def round_create(name: str, tier: str, year: int | None, criteria_id: int | None) -> None:
    """Create a round with the tier's default rules; prints the new round's id only."""
    from reviewapp.audit import Actor
    from reviewapp.clock import today_beijing
    from reviewapp.db import session_scope
    from reviewapp.errors import ServiceError
    from reviewapp.rounds import rules, service

    parsed = rules.parse_tier(tier)
    if parsed is None:
        raise click.ClickException(
            f"级别「{tier}」无效：应为 基础级、先进级、卓越级、领航级（或 basic、advanced、excellent、leading）。"
        )
    if year is not None and not 2000 <= year <= 2100:
        raise click.ClickException("年度应在 2000 到 2100 之间。")
    settings = cli_settings()
    with session_scope(cli_engine(), write=True) as session:
        try:
            rnd = service.create_round(
                session,
                actor=Actor.system("命令行"),
                name=name,
                tier=parsed,
                year=year or today_beijing().year,
                tz=settings.tz,
                settings={"criteria_version_id": criteria_id} if criteria_id else None,
            )
        except ServiceError as exc:
            raise click.ClickException(exc.message) from exc
        session.commit()
        click.echo(rnd.id)


@round_group.command("list")
def round_list() -> None:
    """List rounds: id, year, tier, name, criteria version, scoring deadline (Beijing time)."""
    from sqlmodel import select

    from reviewapp.clock import as_utc
    from reviewapp.db import session_scope
    from reviewapp.rounds import service
    from reviewapp.rounds.models import CriteriaVersion

    tz = cli_settings().tz
    with session_scope(cli_engine()) as session:
        rounds = list(session.exec(service.list_rounds_query()))
        names = dict(session.exec(select(CriteriaVersion.id, CriteriaVersion.name)).all())
    if not rounds:
        click.echo("还没有评审批次。")
        return
    click.echo("编号\t年度\t级别\t批次名称\t要素条件\t评分截止（北京时间）")
    for r in rounds:
        deadline = as_utc(r.scoring_deadline).astimezone(tz).strftime("%Y-%m-%d %H:%M") if r.scoring_deadline else "—"
        criteria = names.get(r.criteria_version_id, "—") if r.criteria_version_id else "—"
        click.echo(f"{r.id}\t{r.year}\t{r.tier_label}\t{r.name}\t{criteria}\t{deadline}")
