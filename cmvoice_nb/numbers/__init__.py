"""Phone-number normalisation with ``phonenumbers``.

Users paste numbers with spaces, dashes, dots and brackets, type the ``00``
international prefix, give national numbers (``06 12345678``) that only make
sense with a region, and get numbers back from spreadsheets as floats
(``31612345678.0``, the ``+`` and leading zeros gone) or as ``tel:`` URIs
(``tel:+31-6-1234-5678``). :func:`normalize_number` turns all of these into the
international format the provider expects (E.164 with ``+`` by default, ``00``
style as an option) or raises :class:`~cmvoice_nb.errors.NumberError` with a plain
reason. A number a spreadsheet wrote in scientific notation (``3.16123E+10``) has
lost digits: it is refused with a reason that says how to export it again.

:func:`normalize_numbers` does the same for a whole column at once (a million
numbers in about a second), with exactly the results and reasons of
:func:`normalize_number` for every value.

Examples
--------
>>> normalize_number("+31 (0)6-1234 5678")
'+31612345678'
>>> normalize_number("06 12345678", region="NL")
'+31612345678'
>>> normalize_number(31612345678.0)
'+31612345678'
>>> normalize_number("0031612345678", style="00")
'0031612345678'
>>> normalize_number("tel:+31-6-1234-5678;ext=12")
'+31612345678'
>>> normalize_number("12345")
Traceback (most recent call last):
...
cmvoice_nb.errors.NumberError: invalid phone number '12345': too short to be a number
>>> normalize_number("3,16123E+10")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
cmvoice_nb.errors.NumberError: invalid phone number '3,16123E+10': a spreadsheet turned the number into...
"""
from __future__ import annotations

from ._columns import normalize_numbers
from ._scalar import SCIENTIFIC_REASON, country_of, normalize_number, try_normalize

__all__ = ["normalize_number", "normalize_numbers", "try_normalize", "country_of", "SCIENTIFIC_REASON"]
