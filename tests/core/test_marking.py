"""Marks in the store and through `Marking`: applied by identity, views, mark-all and undo."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from reader.core.loading.plan import load_store
from reader.core.marking import Marking
from reader.core.state import StateStore
from reader.core.store import STARRED

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def test_marks_apply_by_identity_to_articles_as_they_arrive(tmp_path: Path) -> None:
    first = load_store([SAMPLE], use_cache=False)
    newest, older = first.order().tolist()[:2]
    marks = {first.articles[newest].identity: (1.0, False), first.articles[older].identity: (None, True)}
    store = load_store([SAMPLE], use_cache=False)  # the same posts, read afresh
    store.apply_marks(marks)
    assert [store.is_read(s) for s in store.order().tolist()] == [True, False, False, False, False]
    assert store.view(STARRED).tolist() == [store.slot_of(first.articles[older].identity)]
    assert store.view(unread_only=True).size == 4
    assert store.starred_source().count == 1 and store.starred_source().unread == 1


def test_mark_all_read_and_undo_reach_the_state_store(tmp_path: Path) -> None:
    store = load_store([SAMPLE], use_cache=False)
    state = StateStore(str(tmp_path))
    marking = Marking(store, state)
    slots = store.order()
    marking.set_read(int(slots[0]), True)
    assert marking.mark_all_read(slots) == 4  # the one read already is not counted, nor undone
    assert not store.view(unread_only=True).size
    assert marking.undo() == 4
    assert store.view(unread_only=True).tolist() == slots[1:].tolist()
    assert marking.undo() == 0
    state.close()
    again = StateStore(str(tmp_path))
    read = {identity for identity, (read_at, _) in again.marks().items() if read_at is not None}
    assert read == {store.articles[int(slots[0])].identity}
    again.close()


def test_next_unread_skips_read_ones_and_stops_at_the_end() -> None:
    store = load_store([SAMPLE], use_cache=False)
    marking = Marking(store, None)
    slots = store.order()
    marking.set_read(int(slots[1]), True)
    assert marking.next_unread(slots, int(slots[0])) == int(slots[2])
    assert marking.next_unread(slots, None) == int(slots[0])
    assert marking.next_unread(slots, int(slots[4])) is None
    assert marking.next_unread(np.zeros(0, np.int64), None) is None


def test_star_and_unread_keep_each_other() -> None:
    store = load_store([SAMPLE], use_cache=False)
    marking = Marking(store, None)
    slot = int(store.order()[0])
    identity = store.articles[slot].identity
    marking.set_read(slot, True)
    assert marking.toggle_star(slot)
    marking.set_read(slot, False)
    assert store.marks[identity][0] is None and store.marks[identity][1]
    assert not marking.toggle_star(slot)
    assert identity not in store.marks  # neither read nor starred: nothing to remember


POST = (
    '---\ntitle: "{title}"\ndate: {date} +0800\ncategories: emnews\ntags: 东财滚动新闻\n---\n'
    "<p>{title}</p>\n\n<http://x.example/{url}>\n"
)


def test_a_copy_that_comes_back_shows_its_articles_marks(tmp_path: Path) -> None:
    # Two files, one URL: the newer is live. Mark it, remove its file: the other copy
    # comes back, and must show the same marks (they belong to the article, not the file).
    older, newer = tmp_path / "2022-01-01-a.md", tmp_path / "2022-01-02-b.md"
    older.write_text(POST.format(title="甲", date="2022-01-01 10:00:00", url="1"), encoding="utf-8")
    newer.write_text(POST.format(title="甲", date="2022-01-02 10:00:00", url="1"), encoding="utf-8")
    store = load_store([tmp_path], use_cache=False)
    marking = Marking(store, None)
    live = int(store.order()[0])
    marking.set_read(live, True)
    marking.toggle_star(live)
    store.remove_paths([str(newer.resolve())])
    (back,) = store.order().tolist()
    assert back != live and store.is_read(back) and store.is_starred(back)
    assert store.starred_source().count == 1 and store.sources()[0].unread == 0


def test_undo_follows_articles_read_again_since(tmp_path: Path) -> None:
    from reader.core.loading.plan import read_changes

    post = tmp_path / "2022-01-01-a.md"
    post.write_text(POST.format(title="乙", date="2022-01-01 10:00:00", url="2"), encoding="utf-8")
    store = load_store([tmp_path], use_cache=False)
    marking = Marking(store, None)
    assert marking.mark_all_read(store.order()) == 1
    post.write_text(POST.format(title="乙改", date="2022-01-01 10:00:00", url="2"), encoding="utf-8")
    store.add_batch(read_changes([str(post.resolve())], vocabulary=store.index.vocabulary))
    (slot,) = store.order().tolist()
    assert store.is_read(slot)  # the re-read file keeps its article's mark
    assert marking.undo() == 1
    assert not store.is_read(slot)


def test_a_stale_order_from_another_thread_is_not_kept(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # A search thread computes the order while the UI thread removes an article: what the
    # thread computed must not be kept as the store's order.
    from reader.core import store as store_module

    store = load_store([SAMPLE], use_cache=False)
    real = store_module.np.argsort

    def argsort_while_changing(*args, **kwargs):  # type: ignore[no-untyped-def]
        store._forget_order()  # as `remove_paths` on the UI thread would, meanwhile
        return real(*args, **kwargs)

    monkeypatch.setattr(store_module.np, "argsort", argsort_while_changing)
    store._forget_order()
    store.order()
    assert store._order is None
    monkeypatch.setattr(store_module.np, "argsort", real)
    first = store.order()
    assert store._order is first
