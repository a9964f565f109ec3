"""The running app follows its corpus: new posts appear, changed ones are re-read, removed
ones leave, and the selection never moves."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from reader.ui.app import ReaderApp

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
POST = (
    '---\ntitle: "{title}"\ndate: {date} +0800\ncategories: emnews\ntags: 东财滚动新闻\n---\n'
    "<p>{title}的正文</p>\n\n<http://example.com/{name}.html>\n"
)


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        await pilot.pause(0.05)
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def until(pilot, condition, seconds: float = 5.0) -> float:  # type: ignore[no-untyped-def]
    """Pause until `condition()` holds; returns how long it took (fails after `seconds`)."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, "not seen in time"
        await pilot.pause(0.05)
    return time.monotonic() - started


def titles(app: ReaderApp) -> list[str]:
    main = app.main_screen
    return [main.store.articles[s].title for s in main.article_list.slots.tolist()]


async def test_new_changed_and_removed_posts_show_without_moving_the_selection(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE, corpus)
    app = ReaderApp([str(corpus)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = app.main_screen
        await pilot.press("j", "j")
        selected = main.article_list.highlighted_slot
        selected_title = main.store.articles[selected].title
        assert main._watcher is not None and main._watcher.wait_ready(5)
        new = corpus / "2030-01-01-new.md"
        date = "2030-01-01 10:00:00"
        new.write_text(POST.format(title="新来的文章", date=date, name="new"), encoding="utf-8")
        took = await until(pilot, lambda: "新来的文章" in titles(app))
        assert took < 2.5
        assert titles(app)[0] == "新来的文章"  # the newest, on top
        assert main.store.articles[main.article_list.highlighted_slot].title == selected_title
        assert main.new_count == 1 and "1 new" in str(main.query_one("#status").render())
        # Changed on disk: re-read, still one article.
        new.write_text(POST.format(title="改过的文章", date=date, name="new"), encoding="utf-8")
        await until(pilot, lambda: "改过的文章" in titles(app))
        assert "新来的文章" not in titles(app) and main.store.article_count == 6
        # Removed: it leaves the list, and is not "new" any more; the selection stays.
        new.unlink()
        await until(pilot, lambda: "改过的文章" not in titles(app))
        assert main.store.article_count == 5 and main.new_count == 0
        assert main.store.articles[main.article_list.highlighted_slot].title == selected_title
        again = corpus / "2030-01-02-again.md"
        again.write_text(
            POST.format(title="又来一篇", date="2030-01-02 10:00:00", name="again"), encoding="utf-8"
        )
        await until(pilot, lambda: main.new_count == 1)
        await pilot.press("g")
        assert main.new_count == 0


async def test_an_open_article_whose_file_goes_says_so(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE, corpus)
    app = ReaderApp([str(corpus)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = app.main_screen
        assert main._watcher is not None and main._watcher.wait_ready(5)
        await pilot.press("enter")
        path = Path(main.store.articles[main.open_slot].path)
        path.unlink()
        await until(pilot, lambda: main.open_slot is None)
        assert "removed" in "\n".join(line.plain for line in main.reading_pane._lines)
        assert app.is_running


async def test_posts_written_before_the_watch_starts_are_found(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # The watch starts once the load is over; a post written in between must not be lost.
    from reader.ui.screens.live import LiveCorpus

    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE, corpus)
    start = LiveCorpus.start_watching
    monkeypatch.setattr(LiveCorpus, "start_watching", lambda self: None)
    app = ReaderApp([str(corpus)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = app.main_screen
        (corpus / "2030-01-03-between.md").write_text(
            POST.format(title="加载之后写入", date="2030-01-03 10:00:00", name="between"), encoding="utf-8"
        )
        start(main)
        await until(pilot, lambda: "加载之后写入" in titles(app))
        assert main.store.article_count == 6


async def test_an_active_search_and_the_sidebar_counts_follow_new_posts(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE, corpus)
    app = ReaderApp([str(corpus)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = app.main_screen
        assert main._watcher is not None and main._watcher.wait_ready(5)
        await pilot.press("slash", *"独一无二", "enter")
        await settle(pilot)
        assert titles(app) == []
        (corpus / "2030-01-04-match.md").write_text(
            POST.format(title="独一无二的消息", date="2030-01-04 10:00:00", name="match"), encoding="utf-8"
        )
        await until(pilot, lambda: titles(app) == ["独一无二的消息"])
        assert str(main.sidebar.get_option_at_index(0).prompt).split()[-2:] == ["6", "(6)"]


async def test_unread_only_keeps_the_read_article_and_the_selection_on_an_update(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE, corpus)
    app = ReaderApp([str(corpus)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = app.main_screen
        assert main._watcher is not None and main._watcher.wait_ready(5)
        await pilot.press("u", "j", "j", "enter")  # the third, now read, stays listed
        await settle(pilot)
        opened = main.open_slot
        (corpus / "2030-01-05-other.md").write_text(
            POST.format(title="另一篇", date="2030-01-05 10:00:00", name="other"), encoding="utf-8"
        )
        await until(pilot, lambda: "另一篇" in titles(app))
        assert main.article_list.highlighted_slot == opened and main.open_slot == opened
        assert main.new_count == 1


async def test_a_source_whose_last_post_goes_leaves_the_view(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLE, corpus)
    app = ReaderApp([str(corpus)], use_cache=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        main = app.main_screen
        assert main._watcher is not None and main._watcher.wait_ready(5)
        (slot,) = [s for s in main.store.order().tolist() if main.store.articles[s].source_id != "emnews"][:1]
        article = main.store.articles[slot]
        main.source_id = article.source_id
        await settle(pilot)
        assert titles(app) == [article.title]
        Path(article.path).unlink()
        await until(pilot, lambda: main.source_id == "")
        assert len(titles(app)) == 4
