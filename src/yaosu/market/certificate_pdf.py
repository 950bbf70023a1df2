"""A transaction certificate as a one-page PDF, with a QR code of its verification page.

ReportLab draws it: Chinese text in the Adobe-GB1 CID font ``STSong-Light``, which PDF
readers carry, so no font file has to ship or be installed; the QR code is ReportLab's own
widget. The signed JSON stays the certificate: the PDF is its rendering for people (what it
says can be checked by scanning the code, or by ``yaosu market verify`` on the JSON).
"""

from __future__ import annotations

import io
import textwrap
from typing import Any

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from yaosu.kernel.i18n import _, label, localise
from yaosu.market.labels import CHARGE_UNIT, PRICING_CLASS, SHARE_KIND
from yaosu.market.ledger import yuan

FONT = "STSong-Light"
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _rows(doc: dict[str, Any], number: str, check: str, lang: str) -> list[tuple[str, str]]:
    def say(message: Any) -> str:
        return str(message.render(lang))

    def party(p: dict[str, Any]) -> str:
        return f"{p['name']}（{p['uscc']}）" if p.get("uscc") else str(p["name"])

    registrations = sorted({c for s in doc["product"]["sources"] for c in s["registrations"]})
    fees = doc["fees"]
    return [
        (say(_("Certificate number")), number),
        (say(_("Verification code")), check),
        (say(_("Data product")), f"{doc['product']['title']}（{doc['product']['id']}）"),
        (say(_("Rests on registrations")), "、".join(registrations) or "—"),
        (say(_("Buyer")), party(doc["buyer"])),
        (say(_("Seller")), party(doc["seller"])),
        (say(_("Purpose")), str(doc["purpose"]["name"])),
        (say(_("Pricing class")), say(label(PRICING_CLASS, doc["pricing_class"]))),
        (
            say(_("Quantity")),
            f"{doc['quantity']:,} · {say(label(CHARGE_UNIT, doc['unit']))}",
        ),
        (say(_("Amount")), yuan(int(doc["amount_fen"]))),
        (
            say(_("Fees")),
            say(
                _(
                    "platform {p}, operator {o}, seller {s}",
                    p=yuan(int(fees["platform_fen"])),
                    o=yuan(int(fees["operator_fen"])),
                    s=yuan(int(fees["seller_fen"])),
                )
            ),
        ),
        *[
            (
                say(_("Share")) if i == 0 else "",
                f"{party(line['party'])} · {say(label(SHARE_KIND, line['kind']))}"
                + (f" · {say(_('hop {n}', n=line['hop']))}" if line["hop"] else "")
                + f" · {yuan(int(line['amount_fen']))}",
            )
            for i, line in enumerate((doc.get("shares") or {}).get("lines", []))
        ],
        *[
            (
                say(_("Who answers for what")) if i == 0 else "",
                f"{localise(part['part_text'], lang)} · {part.get('org_name') or '—'}："
                + "、".join(dict.fromkeys(localise(d["rule_text"], lang) for d in part["duties"])),
            )
            for i, part in enumerate(doc.get("responsibilities") or [])
        ],
        (say(_("Order")), str(doc["order"])),
        (say(_("Contract")), str(doc["contract"])),
        (
            say(_("Settlement")),
            f"{doc['settlement']['period']} · {'、'.join(doc['settlement']['statements'])}",
        ),
        (say(_("Delivery evidence")), f"sha256 {doc['delivery_sha256']}"),
        (say(_("Issued")), f"{doc['issued_at']} · {doc['issuer']}"),
    ]


def render(
    doc: dict[str, Any], *, number: str, check: str, signature: str, url: str, lang: str
) -> bytes:
    """The certificate's PDF; ``url``: its verification page, which the QR code holds."""
    out = io.BytesIO()
    page = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    page.setTitle(f"{_('Transaction certificate').render(lang)} {number}")
    width, height = A4
    page.setFont(FONT, 20)
    page.drawCentredString(width / 2, height - 30 * mm, _("Transaction certificate").render(lang))
    y = height - 48 * mm
    for name, value in _rows(doc, number, check, lang):
        if y < 30 * mm:  # a long certificate (many shares, parties) goes on to a second page
            page.showPage()
            y = height - 30 * mm
        page.setFont(FONT, 10)
        page.drawString(20 * mm, y, name)
        lines = textwrap.wrap(value, 58) or [""]
        for line in lines:
            page.drawString(58 * mm, y, line)
            y -= 6 * mm
        y -= 1.5 * mm
    if y < 90 * mm:  # the signature and the QR code below need the foot of a page
        page.showPage()
        y = height - 30 * mm
    page.setFont(FONT, 8)
    page.drawString(20 * mm, y - 2 * mm, _("Signature (Ed25519)").render(lang))
    for line in textwrap.wrap(signature, 90):
        y -= 4.5 * mm
        page.drawString(20 * mm, y - 2 * mm, line)
    code = QrCodeWidget(url)
    x0, y0, x1, y1 = code.getBounds()
    side = 38 * mm
    drawing = Drawing(side, side, transform=[side / (x1 - x0), 0, 0, side / (y1 - y0), 0, 0])
    drawing.add(code)
    renderPDF.draw(drawing, page, width - 20 * mm - side, 22 * mm)
    page.setFont(FONT, 9)
    page.drawRightString(width - 20 * mm, 17 * mm, _("Scan to verify").render(lang))
    page.drawString(20 * mm, 17 * mm, url)
    page.showPage()
    page.save()
    return out.getvalue()
