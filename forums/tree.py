"""Turn a tree-ordered list of replies into the markers a template needs for nested lists."""

from dataclasses import dataclass


@dataclass(slots=True)
class TreeItem:
    post: object
    opens_list: bool = False
    closes_item: bool = False
    closed_lists: range = range(0)  # a range cannot change: one default serves all
    position: int = 0
    page: int = 1  # which page of "View all" shows the reply (set by the thread view)


def nest(posts, *, flat: bool = False) -> tuple[list[TreeItem], range]:
    """Mark where each reply opens a sub-list or closes earlier ones.

    Replies come ordered by tree_path, so each one follows its parent and is at most
    one level deeper than the reply before it. Returns the items and the number of
    lists still open after the last one (to close with `</li></ul>`). `flat` lists
    every reply at the top level, in the order given.
    """
    items = []
    previous_depth = None
    # A page of a long index may start inside a branch: its first reply is shown at the
    # top level, and so is any later reply shallower than that (lists it never opened
    # cannot be closed).
    shift = 0
    for position, post in enumerate(posts):
        item = TreeItem(post=post, position=position)
        if flat:
            depth = 1
        else:
            if previous_depth is None or post.depth - shift < 1:
                shift = post.depth - 1
            depth = post.depth - shift
        if previous_depth is not None:
            if depth > previous_depth:
                item.opens_list = True
            else:
                item.closes_item = True
                item.closed_lists = range(previous_depth - depth)
        previous_depth = depth
        items.append(item)
    tail = range((previous_depth - 1) if previous_depth else 0)
    return items, tail
