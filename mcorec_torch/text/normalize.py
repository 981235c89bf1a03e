"""Transcript text normalization (SPEC §6).

Two styles, both pure functions of one cue's text:

``"official"``
    Exactly what the official MCoRec scorer (the public baseline's ``script/evaluate.py``)
    does to a cue before WER: ``transformers``' Whisper ``EnglishTextNormalizer({})`` (an
    *empty* British-to-American spelling map), then the baseline's ``remove_disfluencies``
    word list. Quirks are kept on purpose: ``"Oh, DC"`` becomes ``"0 dc"``, ``"five
    o'clock"`` becomes ``"50 clock"``, a curly ``"don’t"`` becomes ``"don t"`` while a
    straight ``"don't"`` becomes ``"do not"``. HTML entities are *not* unescaped, because
    the official scorer reads cues with webvtt-py, which leaves ``&amp;`` as written.

``"train"``
    Training targets: HTML entities unescaped, bracketed annotations (``[laughs]``,
    ``(inaudible)``, ``<i>``) and vocal events / disfluencies removed, curly quotes and
    dashes folded, punctuation dropped except apostrophes inside words, UPPER case,
    whitespace collapsed (a multi-line cue becomes one line). Numbers and words are kept as
    written: no number normalization; ``.``/``,`` between digits, a currency sign before a
    digit and ``%`` after a digit are part of the number and kept.

Why not ``whisper_normalizer.english.EnglishTextNormalizer`` as is: its constructor takes
no spelling map (it always loads the British-to-American list), and its contraction table
has four entries that the scorer's normalizer (transformers 4.52.4, pinned by the baseline)
lacks (``kinda``, ``sorta``, ``dunno``, ``cause``). openai-whisper's current normalizer
differs again (it attaches currency symbols, rewrites "half a million"). So the text-level
steps are written here, in the order transformers 4.52.4 applies them, and only the number
normalizer and the symbol stripper are taken from ``whisper-normalizer`` (checked
line by line to behave as transformers 4.52.4's: they differ only in ``assert`` versus
``raise`` on inputs that cannot occur).
"""
from __future__ import annotations

import html
import re
import unicodedata
from typing import Callable, FrozenSet, Optional, Tuple, Union

from whisper_normalizer.basic import remove_symbols_and_diacritics
from whisper_normalizer.english import EnglishNumberNormalizer

from ..checks import OptionError
from .choices import NORMALIZERS, STYLES, style_of

__all__ = [
    "DISFLUENCIES",
    "STYLES",
    "NORMALIZERS",
    "style_of",
    "WhisperEnglishNormalizer",
    "get_normalizer",
    "normalize",
    "normalize_official",
    "normalize_train",
    "remove_disfluencies",
]


#: The official scorer's vocal-event / disfluency list (``remove_disfluencies`` in the
#: baseline's ``src/tokenizer/norm_text.py``; the current list of 215 words, which adds
#: "yeah", "wow", "huh", "whoa", ... to the 178 of early releases). Compared lower-cased,
#: word by word, after the Whisper normalizer.
DISFLUENCIES: FrozenSet[str] = frozenset("""
oh ha um uh ah hmm haahaa mmm ohhh ohh ahh hahaha ohhhh haaa hmmm haa ahhh umm haha mmmm
ummm hah hhh ahw hm haahaahaa hahahaha hmmmm hmmmmmmmm aah haaaa uhh hahah hai uhhh ohw
ahhhh haahaaa hahahah hhhh hahahahaha mmmmm ummmm aaaa ohhhhh sss uuu 000 aaah hhhhh hmmmmm
hmmmmmmm www aaahh haaaaaa huu ohhhhhhh ohhhhhhhh ohhhhhhhhhhhhhh aaa aahw eee hahahha hh
hmmmmmm hoo ooo uhhhh uhhhhh aaaaa aahhh haaaaa haah hahahahahahaha hahhaha ohhhhhh rrr
ummmmm uuuu wwww aahm ahhhhhhhhh er haaaaaaa haaaaaaaa hahaa hahaaaa hahahaa hahahahahaha
hahahahha hahahuh hahhah hahhhh hahuhu hooo mmmmmmm oooo ssssss ummmmmmm yah yyyyyyyyyyyy 999
aaaahhm aaahhh aaahhhmmm aahh aahmm ahhhhh ahhhhhhhhhh ahhhhhhhhhhh eeee ffff haaaaaaaaa
haaaaaaaaaa haaaaaaaaaaaaaaaaaaa haahaha haahahaha haahuuuuu hahaaa hahaaaaa hahaaha
hahahaaah hahahahaahahha hahahahah hahahahahah hahahahahahahaha hahahahahha hahahahu
hahahahuh hahahahuhu hahahhaa hahahoho hahahu hahahuha hahha hahhaaha hahhh hahu hahuh
hahuhahuh hahuhuhu haisho hap haummm hhhhhh hhhhhhh huhahihi huhuhuha huuu huuuu huuuuu lll
mchhh mmmmmm nnn nnnnn nnnnnn ohahahahhu ohhhhhhhhh ohhhhhhhhhhh ohhhhhhhhhhhh
ohhhhhhhhhhhhhhhhh ohhn ohhp ohooo ooooo oooooo ooooooooo oooooooooooooooooooooooooo ppppppp
ssss sssss uhhhhhhh uhhhhhhhhhhhh ummmmmmmm ummmmmmmmm yyy yyyyyyy yay hehehe shhhhh uhhhhmm
huh hhahaha huhuhuh hmmhmm huhhhhhhh wow huhuuu yea huhhhhh huhh huhuhu whoa huhhh yeah huhuu
sshhh huhuuhhu uhm huhmmmm huhhu onnnnnn huhummm oohh mmmhmmm oohhoa ss mhmm sshhhhh uhmm
ssshh mmhmm huhuhh oohhh
""".split())

#: Fillers the Whisper normalizer itself deletes before the word list is applied.
_WHISPER_FILLERS: FrozenSet[str] = frozenset({"hmm", "mm", "mhm", "mmm", "uh", "um"})



def remove_disfluencies(text: str) -> str:
    """Drop every whitespace-separated word whose lower case is in :data:`DISFLUENCIES`.

    The result's words are joined by single spaces (so it is also stripped).
    """
    return " ".join(word for word in text.split() if word.lower() not in DISFLUENCIES)


class WhisperEnglishNormalizer:
    """Whisper's English text normalizer as ``transformers`` 4.52.4 builds it, spelling map
    given by the caller (the official scorer passes ``{}``).

    Steps, in order: lower case; drop ``[...]``/``<...>`` and ``(...)`` spans; drop the
    fillers hmm/mm/mhm/mmm/uh/um; pull a space-separated apostrophe onto the word before it;
    expand contractions and titles (table below, applied in order); remove commas between
    digits; turn periods not followed by a digit into spaces; NFKD and replace symbols and
    punctuation (except ``. % $ ¢ € £``) by spaces, dropping diacritics; spelled-out numbers
    to digits (``EnglishNumberNormalizer``, so "oh"/"o" are zeros); spelling map word by
    word; strip currency/period/percent signs not attached to digits; collapse whitespace.
    The result may keep one leading or trailing space, as the original does.
    """

    #: (pattern, replacement) pairs, applied in this order with ``re.sub``.
    REPLACERS: Tuple[Tuple[str, str], ...] = (
        (r"\bwon't\b", "will not"),
        (r"\bcan't\b", "can not"),
        (r"\blet's\b", "let us"),
        (r"\bain't\b", "aint"),
        (r"\by'all\b", "you all"),
        (r"\bwanna\b", "want to"),
        (r"\bgotta\b", "got to"),
        (r"\bgonna\b", "going to"),
        (r"\bi'ma\b", "i am going to"),
        (r"\bimma\b", "i am going to"),
        (r"\bwoulda\b", "would have"),
        (r"\bcoulda\b", "could have"),
        (r"\bshoulda\b", "should have"),
        (r"\bma'am\b", "madam"),
        (r"\bmr\b", "mister "),
        (r"\bmrs\b", "missus "),
        (r"\bst\b", "saint "),
        (r"\bdr\b", "doctor "),
        (r"\bprof\b", "professor "),
        (r"\bcapt\b", "captain "),
        (r"\bgov\b", "governor "),
        (r"\bald\b", "alderman "),
        (r"\bgen\b", "general "),
        (r"\bsen\b", "senator "),
        (r"\brep\b", "representative "),
        (r"\bpres\b", "president "),
        (r"\brev\b", "reverend "),
        (r"\bhon\b", "honorable "),
        (r"\basst\b", "assistant "),
        (r"\bassoc\b", "associate "),
        (r"\blt\b", "lieutenant "),
        (r"\bcol\b", "colonel "),
        (r"\bjr\b", "junior "),
        (r"\bsr\b", "senior "),
        (r"\besq\b", "esquire "),
        (r"'d been\b", " had been"),
        (r"'s been\b", " has been"),
        (r"'d gone\b", " had gone"),
        (r"'s gone\b", " has gone"),
        (r"'d done\b", " had done"),
        (r"'s got\b", " has got"),
        (r"n't\b", " not"),
        (r"'re\b", " are"),
        (r"'s\b", " is"),
        (r"'d\b", " would"),
        (r"'ll\b", " will"),
        (r"'t\b", " not"),
        (r"'ve\b", " have"),
        (r"'m\b", " am"),
    )

    def __init__(self, spelling_map: Optional[dict] = None) -> None:
        self.spelling_map = dict(spelling_map or {})
        self._numbers = EnglishNumberNormalizer()
        self._replacers = tuple((re.compile(p), r) for p, r in self.REPLACERS)

    def __call__(self, text: str) -> str:
        s = text.lower()
        s = re.sub(r"[<\[][^>\]]*[>\]]", "", s)
        s = re.sub(r"\(([^)]+?)\)", "", s)
        s = re.sub(r"\b(hmm|mm|mhm|mmm|uh|um)\b", "", s)
        s = re.sub(r"\s+'", "'", s)
        for pattern, replacement in self._replacers:
            s = pattern.sub(replacement, s)
        s = re.sub(r"(\d),(\d)", r"\1\2", s)
        s = re.sub(r"\.([^0-9]|$)", r" \1", s)
        s = remove_symbols_and_diacritics(s, keep=".%$¢€£")
        s = self._numbers(s)
        s = " ".join(self.spelling_map.get(word, word) for word in s.split())
        s = re.sub(r"[.$¢€£]([^0-9])", r" \1", s)
        s = re.sub(r"([^0-9])%", r"\1 ", s)
        return re.sub(r"\s+", " ", s)


_OFFICIAL = WhisperEnglishNormalizer({})


def normalize_official(text: str) -> str:
    """The official scorer's normalization of one cue: Whisper (empty spelling map), then
    :func:`remove_disfluencies`. Lower case, single spaces, no leading/trailing space."""
    return remove_disfluencies(_OFFICIAL(text))


# --- train style --------------------------------------------------------------------------

_APOSTROPHES = "\u2019\u2018\u201b\u02bc\u2032"  # ’ ‘ ‛ ʼ ′  -> '
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u00ab\u00bb\u2033"  # “ ” „ ‟ « » ″ -> removed
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"  # ‐ ‑ ‒ – — ― −  -> space
_FOLD = str.maketrans({**{c: "'" for c in _APOSTROPHES}, **{c: "" for c in _DOUBLE_QUOTES},
                       **{c: " " for c in _DASHES}})
_ANNOTATION = re.compile(r"\[[^\]]*\]|<[^>]*>|\([^)]*\)")
_CURRENCY = "$£€¢"


def _is_word_char(c: str) -> bool:
    return c.isalnum() or unicodedata.category(c).startswith("M")


def _strip_punctuation(s: str) -> str:
    """Replace every character that is not part of a word or a number by a space."""
    out = []
    last = len(s) - 1
    for i, c in enumerate(s):
        before = s[i - 1] if i > 0 else ""
        after = s[i + 1] if i < last else ""
        if _is_word_char(c):
            out.append(c)
        elif c == "'" and before and after and _is_word_char(before) and _is_word_char(after):
            out.append(c)
        elif c in ".," and before.isdigit() and after.isdigit():
            out.append(c)
        elif c in _CURRENCY and after.isdigit():
            out.append(c)
        elif c == "%" and before.isdigit():
            out.append(c)
        else:
            out.append(" ")
    return "".join(out)


def normalize_train(text: str) -> str:
    """Training-target normalization of one cue (see the module docstring).

    ``"Um, I don’t know — it’s “fine”.\\n[laughs] Yeah"`` -> ``"I DON'T KNOW IT'S FINE"``.
    """
    s = html.unescape(text)
    s = unicodedata.normalize("NFKC", s).translate(_FOLD)
    s = _ANNOTATION.sub(" ", s)
    s = _strip_punctuation(s).upper()
    return " ".join(word for word in s.split() if word.lower() not in _TRAIN_REMOVED)


#: Words the ``"train"`` style removes: exactly the listed words the official pipeline deletes.
#: "oh" (and "000") are on the list but survive it as "0" (the Whisper normalizer turns them
#: into digits first), so training targets keep them: a model must say "oh" to score on it.
_TRAIN_REMOVED: FrozenSet[str] = frozenset(
    word for word in DISFLUENCIES | _WHISPER_FILLERS if not normalize_official(word).strip())

_STYLE_FUNCTIONS = {"official": normalize_official, "train": normalize_train}


def normalize(text: str, style: str) -> str:
    """Normalize one cue's text with ``style`` ``"official"`` or ``"train"``.

    Raises ``ValueError`` for any other style.
    """
    try:
        function = _STYLE_FUNCTIONS[style]
    except (KeyError, TypeError):
        raise ValueError(f"unknown normalization style {style!r}; expected one of "
                         f"{', '.join(repr(s) for s in STYLES)}") from None
    return function(text)


NormalizerSpec = Union[None, str, Callable[[str], str]]


def get_normalizer(spec: NormalizerSpec) -> Optional[Callable[[str], str]]:
    """Resolve the dataset's ``normalizer=`` argument to a callable (or ``None``).

    ``"default"`` or ``"train"``: the train style; ``"official"``: the official style;
    ``None``: ``None`` (text kept as written); a callable: returned as is. Anything else
    raises ``ValueError`` naming the allowed values.
    """
    if spec is None:
        return None
    if isinstance(spec, str) and spec in NORMALIZERS:
        return _STYLE_FUNCTIONS[style_of(spec)]
    if callable(spec) and not isinstance(spec, str):
        return spec
    raise OptionError("normalizer", f"normalizer must be {', '.join(repr(n) for n in NORMALIZERS)}, None or a "
                      f"callable taking and returning a str; got {spec!r}")
