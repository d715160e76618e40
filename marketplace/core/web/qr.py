"""QR codes drawn inline in pages: a member's voucher at the counter, an operator's
authenticator secret when two-factor sign-in is set up."""

import qrcode
import qrcode.image.svg


def qr_svg(payload: str) -> str:
    """Inline SVG markup (no XML declaration) of a QR code for `payload`."""
    image = qrcode.make(
        payload,
        image_factory=qrcode.image.svg.SvgPathImage,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        # qrcode's SVG unit is 0.1 mm: 2 mm modules stay sharp for a scanner
        # reading a phone screen, and a short payload still fits a narrow screen.
        box_size=20,
        border=2,
    )
    return image.to_string(encoding="unicode")
