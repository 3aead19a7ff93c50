"""Message composition: GSM-7/UCS-2 encoding and segments, smart encoding, templates,
sender ID and footer rules, cost. Pure: no database, no clock, no I/O but its own data files.
"""

from __future__ import annotations

from textopt.compose.cost import Cost, PriceTable, default_price_table, estimate_cost, price_table
from textopt.compose.formats import format_date, format_datetime, format_money, format_time
from textopt.compose.graphemes import count_graphemes
from textopt.compose.gsm import GSM_CHARS, decode_gsm, encode_gsm, gsm_septets, is_gsm
from textopt.compose.identity import (
    BrandMode,
    ComposedMessage,
    MessageFrame,
    SenderId,
    SenderKind,
    check_registered_sender,
    compose_message,
    message_frame,
    names_brand,
    opt_out_footer,
    validate_sender_id,
)
from textopt.compose.parts import (
    LIMITS,
    Analysis,
    Encoding,
    Measure,
    NonGsmChar,
    Part,
    SmartReport,
    analyze,
    check_segment_limit,
    concat_udh,
    count_segments,
    measure,
    split_parts,
)
from textopt.compose.smart import Replacement, transliterate, transliteration_replacements
from textopt.compose.templates import Template, TemplateReport, compile_template

__all__ = [
    "GSM_CHARS",
    "LIMITS",
    "Analysis",
    "BrandMode",
    "ComposedMessage",
    "Cost",
    "Encoding",
    "Measure",
    "MessageFrame",
    "NonGsmChar",
    "Part",
    "PriceTable",
    "Replacement",
    "SenderId",
    "SenderKind",
    "SmartReport",
    "Template",
    "TemplateReport",
    "analyze",
    "check_registered_sender",
    "check_segment_limit",
    "compile_template",
    "compose_message",
    "concat_udh",
    "count_graphemes",
    "count_segments",
    "decode_gsm",
    "default_price_table",
    "encode_gsm",
    "estimate_cost",
    "format_date",
    "format_datetime",
    "format_money",
    "format_time",
    "gsm_septets",
    "is_gsm",
    "measure",
    "message_frame",
    "names_brand",
    "opt_out_footer",
    "price_table",
    "split_parts",
    "transliterate",
    "transliteration_replacements",
    "validate_sender_id",
]
