"""The fee notice's lines: how a computed fee was reached, read from the breakdown the
diagram's fee script stored (nothing is computed again here)."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal

from app.catalogue.services import Catalogue, CatalogueEntry
from app.i18n import N_

# (Indonesian, English) of every label a breakdown line can carry.
_LABELS = {
    "area": ("Luas lantai terukur", "Measured floor area"),
    "unit_price": ("Harga satuan per m²", "Unit price per m²"),
    "function_index": ("Indeks fungsi", "Function index"),
    "class_index": ("Indeks klasifikasi", "Class index"),
    "location_index": ("Indeks lokasi", "Location index"),
    "business_area": ("Luas ruang usaha terukur", "Measured floor area of the premises"),
    "environment": ("Skor lingkungan \u00d7 30%", "Environment score \u00d7 30%"),
    "location": ("Skor lokasi \u00d7 20%", "Location score \u00d7 20%"),
    "disturbance": ("Skor gangguan \u00d7 50%", "Nuisance score \u00d7 50%"),
    "index": ("Indeks gangguan", "Nuisance index"),
    "tariff_m2": ("Tarif per m²", "Tariff per m²"),
    "gross": ("Retribusi menurut rumus", "Fee by the formula"),
    "exemption": (N_("Pembebasan: {rule}"), "Exemption: {rule}"),
    "length": ("Panjang bagian jalan", "Length of the road section"),
    "width": ("Lebar bagian jalan", "Width of the road section"),
    "road_area": ("Luas bagian jalan", "Area of the road section"),
    "siup_class": ("Golongan SIUP", "Licence class"),
    "net_assets": ("Kekayaan bersih", "Net assets"),
    "free": ("SIUP tidak dipungut biaya", "The licence is free of charge"),
    "item": ("{kind} \u201c{text}\u201d, {w} \u00d7 {h} m = {area} m² ({size}), {qty} \u00d7 {tariff} ({duration})",) * 2,
    "permit_fee": ("Retribusi {name}", "Fee for the {name}"),
    "total": ("Jumlah retribusi", "Total fee"),
}
_VALUES = {
    "hunian": ("hunian", "residential"), "usaha": ("usaha", "business"),
    "sosial_budaya": ("sosial budaya", "social and cultural"),
    "keagamaan": ("keagamaan", "religious"), "khusus": ("khusus", "special"), "campuran": ("campuran", "mixed"),
    "sederhana": ("sederhana", "simple"), "tidak_sederhana": ("tidak sederhana", "non-simple"),
    "pusat_kota": ("pusat kota", "town centre"), "pinggiran_kota": ("pinggiran kota", "suburbs"),
    "perdesaan": ("perdesaan", "rural"),
    "kecil": ("kecil", "small"), "sedang": ("sedang", "medium"), "besar": ("besar", "large"),
    "sangat_besar": ("sangat besar", "very large"), "mikro": ("mikro", "micro"), "menengah": ("menengah", "medium"),
    "1_bulan": ("1 bulan", "1 month"), "3_bulan": ("3 bulan", "3 months"),
    "6_bulan": ("6 bulan", "6 months"),
    "1_tahun": ("1 tahun", "1 year"),
    "papan_nama": ("Papan nama", "Name board"), "neon_box": ("Neon box", "Light box"),
    "billboard": ("Billboard", "Billboard"),
    "baliho": ("Baliho", "Large banner"), "spanduk": ("Spanduk", "Banner"), "umbul_umbul": ("Umbul-umbul", "Pennant"),
    "videotron": ("Videotron", "Video screen"),
}


@dataclass(frozen=True)
class FeeLine:
    """One line of a fee breakdown: ``value`` is the input or factor shown, ``amount`` a Rupiah amount."""

    label: str
    value: str = ""
    amount: int | None = None
    kind: str = "line"  # line|heading|subtotal|deduction|total


def _lang(lang: str | None) -> str:
    if lang in ("id", "en"):
        return lang
    from app.i18n import current_language

    return current_language()


class _Writer:
    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.locale = "id_ID" if lang == "id" else "en_GB"
        self.lines: list[FeeLine] = []

    def label(self, key: str, **values: Any) -> str:
        text = _LABELS[key][0 if self.lang == "id" else 1]
        return text.format(**values) if values else text

    def value(self, code: Any) -> str:
        pair = _VALUES.get(str(code))
        return pair[0 if self.lang == "id" else 1] if pair else str(code)

    def number(self, value: Any, digits: int = 2) -> str:
        if value is None:
            return ""
        return format_decimal(Decimal(str(value)), format=f"#,##0.{'#' * digits}" if digits else "#,##0", locale=self.locale)

    def rupiah(self, value: Any) -> str:
        return "Rp" + format_decimal(int(value), format="#,##0", locale="id_ID")

    def add(self, label: str, value: str = "", amount: int | None = None, kind: str = "line") -> None:
        self.lines.append(FeeLine(label, value, amount, kind))


def fee_breakdown_lines(catalogue: Catalogue, process_id: str, data: Mapping[str, Any],
                        lang: str | None = None) -> list[FeeLine]:
    """The breakdown of the fee of a file of ``process_id`` as its scripts computed it from ``data``
    (empty until the fee is computed), in Indonesian or English."""
    w = _Writer(_lang(lang))
    entry = catalogue.entry(process_id)
    if entry.is_bundle:
        if data.get(entry.fee.fee_variable) is None:
            return []
        for member in catalogue.members(process_id):
            w.add(w.label("permit_fee", name=member.name[w.lang]), kind="heading")
            _permit_lines(w, member, data)
            w.add(member.product.name[w.lang], amount=_int(data.get(member.fee.fee_variable)), kind="subtotal")
        w.add(w.label("total"), amount=_int(data.get(entry.fee.fee_variable)), kind="total")
        return w.lines
    if data.get(entry.fee.fee_variable) is None:
        return []
    _permit_lines(w, entry, data)
    w.add(w.label("total"), amount=_int(data.get(entry.fee.fee_variable)), kind="total")
    return w.lines


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _permit_lines(w: _Writer, entry: CatalogueEntry, data: Mapping[str, Any]) -> None:
    b = data.get(entry.fee.breakdown_variable or "") or {}
    if not isinstance(b, Mapping):
        return
    kind = entry.fee.kind
    if kind == "pbg":
        w.add(w.label("area"), f"{w.number(b.get('measured_floor_area_m2'))} m²")
        w.add(w.label("unit_price"), w.rupiah(b.get("unit_price", 0)))
        w.add(w.label("function_index"), f"{w.number(b.get('function_index'))} ({w.value(b.get('building_function'))})")
        w.add(w.label("class_index"), f"{w.number(b.get('class_index'))} ({w.value(b.get('building_class'))})")
        w.add(w.label("location_index"), f"{w.number(b.get('location_index'))} ({w.value(b.get('location_zone'))})")
    elif kind == "weighted_index":
        w.add(w.label("business_area"), f"{w.number(b.get('business_floor_area_m2'))} m²")
        for key, score in (("environment", "environment_score"), ("location", "location_score"),
                           ("disturbance", "disturbance_score")):
            weight = (b.get("weights_percent") or {}).get(key, 0)
            part = Decimal(int(b.get(score) or 0) * int(weight)) / 100
            w.add(w.label(key), f"{b.get(score)} \u00d7 {weight}% = {w.number(part)}")
        w.add(w.label("index"), w.number(b.get("index")))
        w.add(w.label("tariff_m2"), w.rupiah(b.get("tariff_per_m2", 0)))
        w.add(w.label("gross"), amount=_int(b.get("gross_fee")))
        if b.get("exemption"):
            rule = next((x["rule"][w.lang] for x in entry.fee.exemptions if x["key"] == b["exemption"]), str(b["exemption"]))
            w.add(w.label("exemption", rule=rule), amount=-int(b.get("gross_fee") or 0), kind="deduction")
    elif kind == "road_area":
        w.add(w.label("length"), f"{w.number(b.get('length_m'))} m")
        w.add(w.label("width"), f"{w.number(b.get('width_m'))} m")
        w.add(w.label("road_area"), f"{w.number(b.get('area_m2'), 4)} m²")
        w.add(w.label("tariff_m2"), w.rupiah(b.get("tariff_per_m2", 0)))
    elif kind == "itemised":
        for line in b.get("lines") or []:
            w.add(w.label("item", kind=w.value(line.get("kind")), text=line.get("text", ""), w=w.number(line.get("width_m")),
                          h=w.number(line.get("height_m")), area=w.number(line.get("area_m2"), 4),
                          size=w.value(line.get("size_class")), qty=line.get("quantity"),
                          tariff=w.rupiah(line.get("tariff", 0)), duration=w.value(line.get("duration"))),
                  amount=_int(line.get("amount")))
    elif kind == "free":
        w.add(w.label("net_assets"), w.rupiah(b.get("net_assets", 0)))
        w.add(w.label("siup_class"), w.value(b.get("siup_class")))
        w.add(w.label("free"), amount=0)
