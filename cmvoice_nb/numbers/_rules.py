"""phonenumbers' metadata as RE2 patterns: one calling code's parsing and validity rules.

:func:`country_rules` compiles a calling code's rules once (national prefix, lengths, the number
types of each of its regions) for the column-wise path (:mod:`cmvoice_nb.numbers._columns`);
:meth:`Country.finish` applies the end of ``phonenumbers.parse`` and ``is_valid_number`` to a
column of national numbers at once.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ._scalar import REASONS

if TYPE_CHECKING:
    from phonenumbers import PhoneMetadata, PhoneNumberDesc

__all__ = ["Country", "country_rules", "region_rules", "mask", "to_numpy", "UNDECIDED", "VALID", "INVALID"]

#: What the patterns decided about a number: undecided (left to the library), valid, invalid.
UNDECIDED, VALID, INVALID = 0, 1, 2
# The number types phonenumbers' _number_type_helper tries, in its order.
_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail",
          "fixed_line", "mobile")
#: Possible lengths (None: any) and an anchored pattern.
Rule = tuple[tuple[int, ...] | None, str]
#: A region's type rules: the general rule, then one rule per group of types with the same lengths.
Checks = tuple[Rule, tuple[Rule, ...]]
#: A region of a calling code: its code, its leading-digits pattern (or None) and its checks.
Member = tuple[str, str | None, Checks]


def mask(result: Any) -> Any:
    """A pyarrow boolean result as a numpy bool array (null as False)."""
    import pyarrow.compute as pc

    return pc.fill_null(result, False).to_numpy(zero_copy_only=False)


def to_numpy(arr: Any) -> Any:
    """A pyarrow array as a numpy array (copied when it must be)."""
    return arr.to_numpy(zero_copy_only=False)


class Country:
    """One calling code's parsing and validity rules from phonenumbers' metadata, as RE2 patterns.

    Built only for codes whose main region strips its national prefix with plain digits
    (``0``, or ``0|180020`` for GB) and no transform rule; see :func:`country_rules`.
    """

    def __init__(self, code: int, metadata: PhoneMetadata, literals: tuple[str, ...], members: list[Member],
                 idd: str | None) -> None:
        import numpy as np
        from phonenumbers import phonenumberutil as pu

        self.code, self.prefix = code, "+" + str(code)
        self.literals = literals
        general = metadata.general_desc
        assert general is not None and general.national_number_pattern  # country_rules builds no Country without
        self.general_pattern = _anchored(general.national_number_pattern)
        self.members = members  # [(region, leading-digits pattern or None, checks)] in the library's order
        self.names = tuple(name for name, _, _ in members)
        self.idd = idd
        self.reasons = tuple((getattr(pu.ValidationResult, name), text) for name, text in REASONS.items())
        # _test_number_length depends on the length alone: a table over every length parse accepts
        self.lengths = np.array([pu._test_number_length("0" * n, metadata) for n in range(252)], dtype=np.int8)

    def general(self, numbers: Any) -> Any:
        import pyarrow.compute as pc

        return mask(pc.match_substring_regex(numbers, self.general_pattern))

    def length_class(self, lens: Any) -> Any:
        import numpy as np

        return self.lengths[np.minimum(lens, len(self.lengths) - 1)]

    def strip(self, numbers: Any) -> tuple[Any, Any]:
        """``_maybe_strip_national_prefix_carrier_code``: (numbers, which were stripped)."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        stripped = np.zeros(len(numbers), dtype=bool)
        if not self.literals or not len(numbers):
            return numbers, stripped
        rest = numbers
        matched = np.zeros(len(numbers), dtype=bool)
        for literal in self.literals:  # an alternation matches its first alternative that fits
            hit = ~matched & mask(pc.starts_with(numbers, literal))
            if hit.any():
                rest = pc.if_else(pa.array(hit), pc.utf8_slice_codeunits(numbers, len(literal)), rest)
                matched |= hit
        if not matched.any():
            return numbers, stripped
        # the prefix stays when the number was viable with it and is not without it
        stripped = matched & ~(self.general(numbers) & ~self.general(rest))
        return pc.if_else(pa.array(stripped), rest, numbers), stripped

    def finish(self, national: Any, region: str | None) -> tuple[Any, Any, Any]:
        """The rest of parse (national prefix, lengths), is_valid_number and _resolve's reason.

        *region* is the candidate's region (None for ``+<digits>``): the reason names it when
        the number's own region is unknown. Returns (status, E.164, reason) arrays.
        """
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc
        from phonenumbers import ValidationResult

        m = len(national)
        lens = to_numpy(pc.utf8_length(national)).astype(np.int64)
        potential, stripped = self.strip(national)
        plens = to_numpy(pc.utf8_length(potential)).astype(np.int64)
        lenclass = self.length_class(plens)
        use = stripped & np.isin(lenclass, (ValidationResult.IS_POSSIBLE, ValidationResult.TOO_LONG))
        nsn = pc.if_else(pa.array(use), potential, national)
        nlens = np.where(use, plens, lens)
        ok = (lens >= 2) & (nlens >= 2) & (nlens <= 17)
        known, chosen = self.valid(nsn, nlens)
        valid = ok & known
        status = np.where(ok, np.where(valid, VALID, INVALID), UNDECIDED).astype(np.int8)
        out = np.full(m, None, dtype=object)
        if valid.any():
            rows = pa.array(np.flatnonzero(valid))
            out[valid] = to_numpy(pc.utf8_replace_slice(nsn.take(rows), 0, 0, self.prefix))
        why = np.full(m, None, dtype=object)
        invalid = ok & ~known
        if invalid.any():
            # is_possible_number_with_reason: the main region's lengths; else the number's region
            lenclass = self.length_class(nlens)
            names = np.array([f"not a valid number for {name}" if name else "not a valid number"
                              for name in (*self.names, region)], dtype=object)
            why[invalid] = names[np.where(chosen >= 0, chosen, len(self.names))[invalid]]
            for result, text in self.reasons:
                why[invalid & (lenclass == result)] = text
        return status, out, why

    def valid(self, nsn: Any, lens: Any) -> tuple[Any, Any]:
        """is_valid_number, and region_code_for_number as an index into ``names`` (-1: none).

        The number's region is the first of its code's regions whose leading digits match,
        or (for a region without them) whose types it matches; it is valid when its type is
        known in that region.
        """
        import numpy as np
        import pyarrow.compute as pc

        if len(self.members) == 1:
            return _type_known(self.members[0][2], nsn, lens), np.zeros(len(nsn), dtype=np.int64)
        import pyarrow as pa

        result = np.zeros(len(nsn), dtype=bool)
        chosen = np.full(len(nsn), -1, dtype=np.int64)
        for i, (_, leading, checks) in enumerate(self.members):
            rows = np.flatnonzero(chosen < 0)  # the regions before this one took the rest
            if not len(rows):
                break
            sub = nsn.take(pa.array(rows)) if len(rows) < len(nsn) else nsn
            known = _type_known(checks, sub, lens[rows])
            hit = mask(pc.match_substring_regex(sub, leading)) if leading is not None else known
            result[rows[hit]] = known[hit]
            chosen[rows[hit]] = i
        return result, chosen


def _type_known(checks: Checks, nsn: Any, lens: Any) -> Any:
    """``_number_type_helper(nsn, metadata) != UNKNOWN`` for one region's compiled checks."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    (general_lengths, general), groups = checks
    ok = np.ones(len(nsn), dtype=bool) if general_lengths is None else np.isin(lens, general_lengths)
    ok &= mask(pc.match_substring_regex(nsn, general))
    any_type = np.zeros(len(nsn), dtype=bool)
    for lengths, pattern in groups:  # each type tried on the numbers no earlier type matched
        fits = ok & ~any_type & (np.ones(len(nsn), dtype=bool) if lengths is None else np.isin(lens, lengths))
        rows = np.flatnonzero(fits)
        if len(rows):
            sub = nsn.take(pa.array(rows)) if len(rows) < len(nsn) else nsn
            any_type[rows[mask(pc.match_substring_regex(sub, pattern))]] = True
    return ok & any_type


def _anchored(pattern: str) -> str:
    return f"^(?:{pattern})$"


def _checks(metadata: PhoneMetadata) -> Checks | None:
    """A region's type rules as (general (lengths, pattern), [(lengths, pattern of types with those lengths)])."""
    def lengths(desc: PhoneNumberDesc) -> tuple[int, ...] | None:
        return tuple(desc.possible_length) if desc.possible_length else None

    general = metadata.general_desc
    if general is None or not general.national_number_pattern:
        return None
    by_lengths: dict[tuple[int, ...] | None, list[str]] = {}
    for name in _TYPES:
        if name == "mobile" and metadata.same_mobile_and_fixed_line_pattern:
            continue  # the library does not try mobile then: fixed_line decided it
        desc: PhoneNumberDesc | None = getattr(metadata, name)
        if desc is None or not desc.national_number_pattern:
            continue
        by_lengths.setdefault(lengths(desc), []).append(desc.national_number_pattern)
    groups = tuple((key, _anchored("|".join(f"(?:{p})" for p in pats))) for key, pats in by_lengths.items())
    return (lengths(general), _anchored(general.national_number_pattern)), groups


def _re2_ok(*patterns: str | None) -> bool:
    """Whether RE2 (pyarrow's engine) compiles every pattern."""
    import pyarrow as pa
    import pyarrow.compute as pc

    probe = pa.array([""], type=pa.large_string())
    for pattern in patterns:
        if pattern is None:
            continue
        try:
            pc.match_substring_regex(probe, pattern)
        except pa.ArrowException:
            return False
    return True


_COUNTRIES: dict[int, Country | None] = {}


def country_rules(code: int) -> Country | None:
    """The compiled rules of a calling code, or None when the column path leaves it to the library."""
    if code in _COUNTRIES:
        return _COUNTRIES[code]
    from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneMetadata, phonenumberutil as pu

    country = None
    main = pu.region_code_for_country_code(code)
    metadata = PhoneMetadata.metadata_for_region(main, None) if main not in ("ZZ", "001") else None
    prefix = metadata.national_prefix_for_parsing if metadata is not None else None
    plain_prefix = not prefix or (re.fullmatch(r"[0-9]+(?:\|[0-9]+)*", prefix) is not None
                                  and metadata is not None and not metadata.national_prefix_transform_rule)
    general_pattern = metadata.general_desc.national_number_pattern if metadata and metadata.general_desc else None
    if metadata is not None and general_pattern and plain_prefix:
        members: list[Member] | None = []
        for region in COUNTRY_CODE_TO_REGION_CODE.get(code, ()):
            member = PhoneMetadata.metadata_for_region(region, None)
            if member is None:
                continue  # the library skips it too
            checks = _checks(member)
            leading = f"^(?:{member.leading_digits})" if member.leading_digits is not None else None
            if checks is None or members is None:
                members = None
                break
            members.append((region, leading, checks))
        idd = f"^(?:{metadata.international_prefix})" if metadata.international_prefix else None
        patterns = [idd, _anchored(general_pattern)]
        for _, leading, ((_, general), groups) in members or ():
            patterns += [leading, general, *(p for _, p in groups)]
        if members and _re2_ok(*patterns):
            country = Country(code, metadata, tuple(prefix.split("|")) if prefix else (), members, idd)
    _COUNTRIES[code] = country
    return country


def region_rules(region: str) -> Country | None:
    """The rules for national numbers of *region* (upper case), or None when it is not its code's main region."""
    from phonenumbers import PhoneMetadata, phonenumberutil as pu

    if region not in pu.SUPPORTED_REGIONS:
        return None
    metadata = PhoneMetadata.metadata_for_region(region, None)
    if metadata is None or metadata.country_code is None \
            or pu.region_code_for_country_code(metadata.country_code) != region:
        return None  # a territory sharing a code (GG, CA ...) parses with its own metadata: the library's
    return country_rules(metadata.country_code)
