"""my_bert.tokens: my code from the course notebooks, saved by %%my_bert.

Each block is one definition of a cell; running the cell again replaces the
blocks of the names it defines, so edit the cell in the notebook rather than this
file."""


# [my_bert cell] defines: longest_piece
def longest_piece(word: str, start: int, vocab: dict) -> str | None:
    """The longest vocabulary entry matching `word` from `start` (with '##' when start > 0)."""
    prefix = "##" if start > 0 else ""
    for end in range(len(word), start, -1):  # longest candidate first
        candidate = prefix + word[start:end]
        if candidate in vocab:
            return candidate
    return None


# [my_bert cell] defines: wordpiece
def wordpiece(word: str, vocab: dict) -> list[str]:
    if len(word) > 100:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        piece = longest_piece(word, start, vocab)
        if piece is None:
            return ["[UNK]"]  # the whole word, not just the part that failed
        pieces.append(piece)
        start += len(piece.removeprefix("##"))
    return pieces


# [my_bert cell] defines: build_model_input
def build_model_input(piece_ids: list[int], max_length: int, cls_id: int, sep_id: int, pad_id: int):
    ids = [cls_id] + piece_ids[: max_length - 2] + [sep_id]
    padding = max_length - len(ids)
    return ids + [pad_id] * padding, [1] * len(ids) + [0] * padding


# [my_bert cell] defines: pair_input
def pair_input(ids_a: list[int], ids_b: list[int], cls_id: int, sep_id: int):
    input_ids = [cls_id] + ids_a + [sep_id] + ids_b + [sep_id]
    token_type_ids = [0] * (len(ids_a) + 2) + [1] * (len(ids_b) + 1)
    return input_ids, token_type_ids
