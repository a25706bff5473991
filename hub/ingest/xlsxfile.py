"""XLSX bytes to raw rows: zip-bomb, macro and DTD checks first, then openpyxl."""

import io
import zipfile
from datetime import date, time
from decimal import Decimal

import openpyxl
import openpyxl.xml
from defusedxml import DefusedXmlException

from hub.ingest.cells import Cell, FileRejected, RawRows, TableLimits

if not openpyxl.xml.DEFUSEDXML:
    # Without defusedxml, openpyxl expands DOCTYPE entities (billion laughs, XXE).
    raise ImportError(
        "openpyxl is not using defusedxml: install defusedxml and do not set "
        "OPENPYXL_DEFUSEDXML=False"
    )

_MAX_MEMBERS = 10_000
# A member smaller than this cannot exhaust memory, whatever its ratio; tiny
# repetitive XML parts in real workbooks can exceed the ratio.
_RATIO_FLOOR = 1024 * 1024
_PROLOG_BYTES = 64 * 1024
_DTD_MARKERS = tuple(
    marker.encode(encoding)
    for marker in ("<!DOCTYPE", "<!ENTITY")
    for encoding in ("utf-8", "utf-16-le", "utf-16-be")
)
_MACRO_MARKERS = (b"macroenabled", b"vbaproject", b"macrosheet")
_XML_SUFFIXES = (".xml", ".rels", ".vml")
_CONTENT_TYPES = "[Content_Types].xml"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def read_xlsx_rows(data: bytes, limits: TableLimits) -> RawRows:
    """Yield (sheet row number, cells) of the first worksheet, or raise FileRejected.

    The package is checked with zipfile before openpyxl sees it: member count,
    total and per-member uncompressed size and ratio (ZIP_BOMB), macros
    (MACROS_NOT_ALLOWED) and DOCTYPE/ENTITY declarations (XML_FORBIDDEN).
    Cells keep openpyxl's types (cached values for formulas); strings are
    stripped and empty ones become None.
    """
    _check_package(data, limits)
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=True, keep_links=False
        )
    except (FileRejected, MemoryError, Warning):
        raise
    except Exception as exc:
        raise _translate(exc) from exc
    try:
        if not workbook.worksheets:
            raise FileRejected("the workbook has no worksheet", reason="EMPTY_FILE")
        sheet = workbook.worksheets[0]
        # The stored <dimension> may be wrong: too small would silently drop
        # rows, too large (A1:XFD1048576) would pad every row.
        sheet.reset_dimensions()
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, _clean(values, limits)
    except (FileRejected, MemoryError, Warning):
        # Warnings only arrive here when they are configured as errors (tests).
        raise
    except Exception as exc:
        raise _translate(exc) from exc
    finally:
        workbook.close()


def _check_package(data: bytes, limits: TableLimits) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
            if len(infos) > _MAX_MEMBERS:
                raise _corrupt(data)
            _check_sizes(infos, len(data), limits)
            _check_macros(archive, infos)
            _check_prologs(archive, infos)
    except (FileRejected, MemoryError):
        raise
    except Exception as exc:
        raise _corrupt(data) from exc


def _check_sizes(
    infos: list[zipfile.ZipInfo], archive_size: int, limits: TableLimits
) -> None:
    total = sum(info.file_size for info in infos)
    if total > limits.max_uncompressed_bytes:
        raise _bomb(
            f"the workbook unpacks to {total // (1024 * 1024)} MiB; at most "
            f"{limits.max_uncompressed_bytes // (1024 * 1024)} MiB are allowed"
        )
    ratio = limits.max_compression_ratio
    for info in infos:
        if info.file_size > _RATIO_FLOOR and info.file_size > ratio * max(
            info.compress_size, 1
        ):
            raise _bomb(f"a part of the workbook is compressed more than {ratio}:1")
    # Against the real archive size, so overlapping members cannot hide.
    if total > _RATIO_FLOOR and total > ratio * max(archive_size, 1):
        raise _bomb(f"the workbook is compressed more than {ratio}:1")


def _check_macros(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    names = [info.filename.lower() for info in infos]
    if _CONTENT_TYPES not in archive.namelist():
        raise FileRejected(
            "the file is not an Excel workbook (no [Content_Types].xml)",
            reason="FILE_CORRUPT",
        )
    with archive.open(_CONTENT_TYPES) as member:
        content_types = member.read(_PROLOG_BYTES * 16).lower()
    if any("vbaproject" in n or n.startswith("xl/macrosheets/") for n in names) or any(
        marker in content_types for marker in _MACRO_MARKERS
    ):
        raise FileRejected(
            "workbooks with macros cannot be imported; save the sheet as an "
            "Excel Workbook (.xlsx) without macros, or as CSV",
            reason="MACROS_NOT_ALLOWED",
        )


def _check_prologs(archive: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> None:
    """No DOCTYPE or ENTITY in any XML part's opening bytes.

    Office never writes a DTD. defusedxml (required above) is the backstop for
    declarations hidden further in; this check also holds if openpyxl switches
    parsers (it uses lxml when installed).
    """
    for info in infos:
        if not info.filename.lower().endswith(_XML_SUFFIXES):
            continue
        with archive.open(info) as member:
            head = member.read(_PROLOG_BYTES)
        if any(marker in head for marker in _DTD_MARKERS):
            raise _xml_forbidden()


def _clean(values: tuple[object, ...], limits: TableLimits) -> list[Cell]:
    if len(values) > limits.max_columns:
        tail = values[limits.max_columns :]
        if tail.count(None) == len(tail):
            # Styled but empty cells far to the right; tuple.count runs in C.
            values = values[: limits.max_columns]
    return [_cell(value) for value in values]


def _cell(value: object) -> Cell:
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool | int | float | Decimal | date):
        return value
    if isinstance(value, time):
        return value.isoformat()
    return str(value)  # timedelta, from [h]:mm duration formats


def _translate(exc: BaseException) -> FileRejected:
    cause: BaseException | None = exc
    for _ in range(10):  # openpyxl re-raises parse errors as a plain ValueError
        if cause is None:
            break
        if isinstance(cause, DefusedXmlException):
            return _xml_forbidden()
        cause = cause.__cause__ or cause.__context__
    return FileRejected(
        "the workbook could not be read (it may be damaged); open it in Excel "
        "and save it again as .xlsx, or save it as CSV",
        reason="FILE_CORRUPT",
    )


def _corrupt(data: bytes) -> FileRejected:
    if data.startswith(_OLE_MAGIC):
        return FileRejected(
            "this is an old .xls or a password-protected workbook; save it as "
            ".xlsx without a password, or as CSV",
            reason="FILE_CORRUPT",
        )
    return FileRejected(
        "the file is not a valid .xlsx workbook (it may be damaged, or another "
        "kind of file renamed to .xlsx)",
        reason="FILE_CORRUPT",
    )


def _bomb(detail: str) -> FileRejected:
    return FileRejected(
        f"{detail}; this looks like a zip bomb and is not read", reason="ZIP_BOMB"
    )


def _xml_forbidden() -> FileRejected:
    return FileRejected(
        "the workbook contains an XML DOCTYPE or ENTITY declaration, which is "
        "not allowed; open it in Excel and save it again",
        reason="XML_FORBIDDEN",
    )
