"""Opening or dropping a photo/scan of a digit: decoded by the browser, inverted when needed, predicted."""

import base64

import number_strokes
import pytest

import pagekit


def scan_of(image28, scale=8, paper=235, ink=25, dark_on_light=True):
    """An MNIST digit as a bigger 'scan': dark ink on light-gray paper (or the reverse)."""
    rows = []
    for y in range(28 * scale):
        row = []
        for x in range(28 * scale):
            v = int(image28[y // scale][x // scale]) / 255.0  # 1 = ink
            level = paper + (ink - paper) * v if dark_on_light else ink + (paper - ink) * v
            row.append(max(0, min(255, int(level + ((x * 7 + y * 13) % 9) - 4))))  # a little paper texture
        rows.append(row)
    return pagekit.png_gray(rows)


@pytest.fixture(scope="module")
def samples(mnist_test):
    """One MNIST test image for each of a few digits (the first of each label)."""
    images, labels = mnist_test
    picked = {}
    for i, label in enumerate(labels[:200]):
        picked.setdefault(int(label), images[i].tolist())
    return picked


@pytest.mark.parametrize("digit", [2, 3, 5, 8])
def test_open_image_dark_ink_on_white(page, samples, digit):
    png = scan_of(samples[digit])
    page.set_input_files("#file", files=[{"name": f"digit{digit}.png", "mimeType": "image/png", "buffer": png}])
    assert pagekit.wait_prediction(page, str(digit)) == str(digit)
    assert "Opened" in page.text_content("#pad-status")


def test_light_ink_on_dark_is_not_inverted(page, samples):
    png = scan_of(samples[3], dark_on_light=False)
    page.set_input_files("#file", files=[{"name": "light.png", "mimeType": "image/png", "buffer": png}])
    assert pagekit.wait_prediction(page, "3") == "3"


def test_dropped_image_is_read(page, samples):
    png = scan_of(samples[5])
    page.evaluate(
        """async (b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }));
        for (const type of ['dragover', 'drop'])
          document.getElementById('pad').dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
    }""",
        base64.b64encode(png).decode(),
    )
    assert pagekit.wait_prediction(page, "5") == "5"


def test_drawing_after_an_image_starts_a_fresh_pad(page, samples):
    page.set_input_files("#file", files=[{"name": "d.png", "mimeType": "image/png", "buffer": scan_of(samples[8])}])
    pagekit.wait_prediction(page, "8")
    number_strokes.draw_digit(page, pagekit.DIGIT_STROKES[1])
    assert pagekit.wait_prediction(page, "1") == "1"
    assert page.evaluate("window.digitPad.image") is None


def test_a_file_that_is_not_an_image_is_refused_politely(page):
    page.set_input_files("#file", files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"hello"}])
    pagekit.wait_for(page, "document.getElementById('pad-status').textContent.includes('not an image')")
    assert pagekit.prediction(page) == ""


BARS = "[...document.querySelectorAll('#bars .bar-value')].map((e) => e.textContent)"


@pytest.mark.parametrize(
    "name, mime, data, reason",
    [
        ("broken.png", "image/png", b"\x89PNG but not really", "cannot decode"),
        ("notes.txt", "text/plain", b"hi", "not an image"),
    ],
)
def test_a_failed_open_clears_the_stale_answer_and_says_why_in_its_place(page, samples, name, mime, data, reason):
    """A picture was read; then a file that cannot be shown: no old picture, digit, bars or boxes stay behind."""
    page.set_input_files("#file", files=[{"name": "d.png", "mimeType": "image/png", "buffer": scan_of(samples[8])}])
    pagekit.wait_prediction(page, "8")
    page.set_input_files("#file", files=[{"name": name, "mimeType": mime, "buffer": data}])
    pagekit.wait_for(page, "(n) => document.getElementById('message').textContent.includes(n)", arg=name)
    message = page.text_content("#message")
    assert message.startswith(f"Could not open {name}: ") and reason in message and "\n" not in message, message
    assert page.locator("#message.unsure").count() == 1
    assert pagekit.prediction(page) == "" and page.text_content("#confidence") == ""
    assert page.evaluate("window.digitPad.image") is None and page.evaluate("window.digitPad.boxes") is None
    assert set(page.evaluate(BARS)) == {"–"}
    assert page.locator("#digits button").count() == 0
    page.keyboard.press("Control+z")  # the picture comes back
    pagekit.wait_prediction(page, "8")
