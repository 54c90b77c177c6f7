"""The tokens search indexes and matches: words, Chinese bigrams, pinyin and stems.

Chinese has no spaces between words, and most words are two characters long, so a run of
Chinese characters is indexed as its overlapping character pairs (广州市公交 -> 广州 州市
市公 公交): a two-character query word is then one exact token, and a longer one is the
conjunction of its pairs. A single character is matched against the run's single
characters, kept in their own column so they never inflate a bigram's frequency.
Latin-script words are lower-cased and stemmed (schools -> school), so "bus" no longer
matches inside "business_status" as the substring search did. Titles and tags also
carry the pinyin of their Chinese bigrams (公交 -> gongjiao), so "gongjiao" finds them.

Everything here is pure: the index (search/index.py) and the query (catalogue/search.py) call the
same functions, so the two always agree.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Iterable, Iterator

import snowballstemmer

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_PIECES = re.compile(f"[{_CJK}]+|[0-9a-z]+")
_CJK_RUN = re.compile(f"[{_CJK}]+")
_LATIN = re.compile("[a-z]")
_stemmer = snowballstemmer.stemmer("english")

# Every toneless syllable of Mandarin (as pypinyin spells them, ü as v): enough to split a
# pinyin query such as "gongjiaozhandian" into syllables without loading its dictionary.
SYLLABLES = frozenset((
    "a ai an ang ao ba bai ban bang bao bei ben beng bi bian biao bie bin bing bo bu ca cai "
    "can cang cao ce cen ceng cha chai chan chang chao che chen cheng chi chong chou chu chua "
    "chuai chuan chuang chui chun chuo ci cong cou cu cuan cui cun cuo da dai dan dang dao de "
    "dei den deng di dia dian diao die ding diu dong dou du duan dui dun duo e ei en eng er fa "
    "fan fang fei fen feng fiao fo fou fu ga gai gan gang gao ge gei gen geng gong gou gu gua "
    "guai guan guang gui gun guo ha hai han hang hao he hei hen heng hm hng hong hou hu hua "
    "huai huan huang hui hun huo ji jia jian jiang jiao jie jin jing jiong jiu ju juan jue jun "
    "ka kai kan kang kao ke kei ken keng kong kou ku kua kuai kuan kuang kui kun kuo la lai "
    "lan lang lao le lei len leng li lia lian liang liao lie lin ling liu lo long lou lu luan "
    "lun luo lv lve m ma mai man mang mao me mei men meng mi mian miao mie min ming miu mo mou "
    "mu n na nai nan nang nao ne nei nen neng ng ni nian niang niao nie nin ning niu nong nou "
    "nu nuan nun nuo nv nve o ou pa pai pan pang pao pei pen peng pi pian piao pie pin ping po "
    "pou pu qi qia qian qiang qiao qie qin qing qiong qiu qu quan que qun ran rang rao re ren "
    "reng ri rong rou ru rua ruan rui run ruo sa sai san sang sao se sen seng sha shai shan "
    "shang shao she shei shen sheng shi shou shu shua shuai shuan shuang shui shun shuo si "
    "song sou su suan sui sun suo ta tai tan tang tao te tei teng ti tian tiao tie ting tong "
    "tou tu tuan tui tun tuo wa wai wan wang wei wen weng wo wu xi xia xian xiang xiao xie xin "
    "xing xiong xiu xu xuan xue xun ya yan yang yao ye yi yin ying yo yong you yu yuan yue yun "
    "za zai zan zang zao ze zei zen zeng zha zhai zhan zhang zhao zhe zhei zhen zheng zhi "
    "zhong zhou zhu zhua zhuai zhuan zhuang zhui zhun zhuo zi zong zou zu zuan zui zun zuo"
).split())
_MAX_SYLLABLE = max(map(len, SYLLABLES))


def pieces(text: str) -> Iterator[str]:
    """Runs of Chinese characters and of Latin letters/digits, lower-cased."""
    return (m.group() for m in _PIECES.finditer(text.lower()))


def is_cjk(piece: str) -> bool:
    return bool(_CJK_RUN.fullmatch(piece))


def bigrams(run: str) -> list[str]:
    return [run[i:i + 2] for i in range(len(run) - 1)]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return _stemmer.stemWord(word) if _LATIN.match(word) else word


def word_tokens(text: str) -> list[str]:
    """Bigrams of Chinese runs (a lone character stays itself) and stemmed words."""
    tokens: list[str] = []
    for piece in pieces(text):
        if is_cjk(piece):
            tokens.extend(bigrams(piece) if len(piece) > 1 else [piece])
        else:
            tokens.append(stem(piece))
    return tokens


def char_tokens(text: str) -> list[str]:
    """The single Chinese characters of ``text``, for one-character queries."""
    return [ch for run in _CJK_RUN.findall(text) for ch in run]


def pinyin_tokens(text: str) -> list[str]:
    """The toneless pinyin of each Chinese bigram (公交 -> gongjiao) and of lone characters."""
    from pypinyin import Style, lazy_pinyin  # its dictionaries cost 0.3 s: load on first use

    tokens: list[str] = []
    for run in _CJK_RUN.findall(text):
        syllables = lazy_pinyin(run, style=Style.NORMAL, errors="ignore")
        if len(syllables) != len(run):
            continue
        if len(syllables) == 1:
            tokens.append(syllables[0])
        tokens.extend(a + b for a, b in zip(syllables, syllables[1:]))
    return tokens


def split_pinyin(word: str) -> list[str] | None:
    """``gongjiaozhandian`` -> [gong, jiao, zhan, dian], or None if it is not pinyin.

    Longest match first with backtracking, so xian stays one syllable and xi'an (xian)
    is read the common way.
    """
    @lru_cache(maxsize=None)
    def split_from(start: int) -> tuple[str, ...] | None:
        if start == len(word):
            return ()
        for size in range(min(_MAX_SYLLABLE, len(word) - start), 0, -1):
            head = word[start:start + size]
            if head in SYLLABLES:
                rest = split_from(start + size)
                if rest is not None:
                    return (head, *rest)
        return None

    if not word.isascii() or not word.isalpha() or len(word) > 60:
        return None
    found = split_from(0)
    return list(found) if found else None


def query_pinyin_tokens(word: str) -> list[str] | None:
    """The pinyin-bigram tokens a pinyin query word must match, if it reads as two or
    more syllables (one syllable alone would match every character with that sound)."""
    syllables = split_pinyin(word)
    if not syllables or len(syllables) < 2:
        return None
    return [a + b for a, b in zip(syllables, syllables[1:])]


def join(tokens: Iterable[str]) -> str:
    """Tokens as the index stores them: one string, separated by single spaces."""
    return " ".join(t for t in tokens if t)
