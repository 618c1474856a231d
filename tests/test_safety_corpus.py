"""The publisher's safety check against a corpus of payloads that browsers run.

Every payload of :data:`RUNS` and :data:`LOADS` runs script (an ``alert`` dialog) or loads from
another host (a request to ``evil.example``) in headless Chromium with the check and the policy
off (confirmed on demand, outside the test suite: ``python benchmarks/safety_corpus.py``); the
check must refuse every one. :data:`REFUSED_ANYWAY` holds markup today's Chromium does not act
on (it blocks ``javascript:`` in a meta refresh, for one) but another browser or version may:
refused as well, without a browser claim. :data:`SAFE` must pass.
"""

from __future__ import annotations

import pytest

from analysis.errors import ReportError
from analysis.publish.render import content_security_policy, stylesheet
from analysis.publish.safety import check_page, external_references, unsafe_markup

#: Markup that runs script in Chromium (some on a click of the element with id="go").
RUNS = {
    # the list
    "comment ended by <!-->": "<!--><script>alert(1)</script>-->",
    "comment ended by <!--->": "<!---><script>alert(1)</script>-->",
    "CDATA in HTML is a comment": "<![CDATA[><script>alert(1)</script>]]>",
    "img in a title attribute in noscript": (
        '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>'
    ),
    "img in a title attribute in textarea": (
        '<textarea><p title="</textarea><img src=x onerror=alert(1)>"></textarea>'
    ),
    "img in a title attribute in title": (
        '<title><p title="</title><img src=x onerror=alert(1)>"></title>'
    ),
    "SVG set of href to javascript:": (
        '<svg><a id=go><set attributeName=href to="javascript:alert(1)"/><text y=20>go</text>'
        "</a></svg>"
    ),
    "SVG animate of href to javascript:": (
        '<svg><a id=go><animate attributeName=href values="javascript:alert(1)"/>'
        "<text y=20>go</text></a></svg>"
    ),
    "SVG animate onbegin": '<svg><animate onbegin="alert(1)" attributeName=x dur=1s></svg>',
    # other comments and raw-text elements
    "comment ended by --!>": "<!-- a --!><img src=x onerror=alert(1)>-->",
    "processing instruction is a short comment": "<?xml ><img src=x onerror=alert(1)>?>",
    "img in a title attribute in xmp": '<xmp><p title="</xmp><img src=x onerror=alert(1)>"></xmp>',
    "img in a title attribute in noembed": (
        '<noembed><p title="</noembed><img src=x onerror=alert(1)>"></noembed>'
    ),
    "img in a title attribute in noframes": (
        '<noframes><p title="</noframes><img src=x onerror=alert(1)>"></noframes>'
    ),
    "img in a title attribute in style": (
        '<style><p title="</style><img src=x onerror=alert(1)>"></style>'
    ),
    "img in a title attribute in iframe": (
        '<iframe><p title="</iframe><img src=x onerror=alert(1)>"></iframe>'
    ),
    "img breaking out of SVG style": "<svg><style><img src=x onerror=alert(1)></style></svg>",
    "img inside select (customizable select)": "<select><img src=x onerror=alert(1)></select>",
    "img in a div inside select": "<select><div><img src=x onerror=alert(1)></div></select>",
    # javascript: and data: URLs in attributes
    "a href javascript:": '<a id=go href="javascript:alert(1)">go</a>',
    "a href javascript: as entities": '<a id=go href="&#106;avascript:alert(1)">go</a>',
    "a href javascript: with a tab": '<a id=go href=" java&#x09;script:alert(1)">go</a>',
    "button formaction javascript:": (
        '<form><button id=go formaction="javascript:alert(1)">go</button></form>'
    ),
    "SVG a xlink:href javascript:": (
        '<svg><a id=go xlink:href="javascript:alert(1)"><text y=20>go</text></a></svg>'
    ),
    "iframe src data:": '<iframe src="data:text/html,<script>alert(1)</script>"></iframe>',
    "object data data:": '<object data="data:text/html,<script>alert(1)</script>"></object>',
    "embed src data: SVG": (
        "<embed src=\"data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' "
        "onload='alert(1)'/>\">"
    ),
    "iframe srcdoc": '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "script src data:": '<script src="data:text/javascript,alert(1)"></script>',
}

#: Markup that makes Chromium load from another host.
LOADS = {
    "img src": '<img src="https://evil.example/x.png" alt="x">',
    "link stylesheet": '<link rel=stylesheet href="https://evil.example/x.css">',
    "link prefetch": '<link rel=prefetch href="https://evil.example/p">',
    "style @import": "<style>@import 'https://evil.example/x.css';</style>",
    "style url() escaped as \\75rl(": '<p style="background:\\75rl(https://evil.example/x.png)">b</p>',
    "style image-set()": (
        "<p style=\"background-image:image-set('https://evil.example/y.png' 1x)\">b</p>"
    ),
    "style @font-face": (
        "<style>@font-face{font-family:x;src:url(https://evil.example/f.woff)} "
        "p{font-family:x}</style>"
    ),
    "style custom property url()": (
        "<style>p{--u:url(https://evil.example/v.png);background:var(--u)}</style>"
    ),
    "meta refresh to another host": (
        '<meta http-equiv="refresh" content="0; URL=\'https://evil.example/\'">'
    ),
    "SVG image href": (
        '<svg><image href="https://evil.example/x.png" width=10 height=10></image></svg>'
    ),
    "SVG feImage href": (
        '<svg><filter id=f><feImage href="https://evil.example/fe.png"/></filter>'
        '<rect filter="url(#f)" width=10 height=10/></svg>'
    ),
    "video poster": '<video poster="https://evil.example/p.png"></video>',
    "audio src": '<audio src="https://evil.example/a.mp3" autoplay></audio>',
    "img srcset": (
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" '
        'srcset="https://evil.example/x.png 1x" alt=x>'
    ),
    "input type=image": '<input type=image src="https://evil.example/i.png" alt=x>',
    "img in a title attribute in noscript": (
        '<noscript><p title="</noscript><img src=https://evil.example/n.png alt=x>"></noscript>'
    ),
}

#: Refused although today's headless Chromium does not act on them.
REFUSED_ANYWAY = {
    "meta refresh to javascript:": (
        '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">'
    ),
    "MathML href javascript:": '<math><mi href="javascript:alert(1)">go</mi></math>',
    "base href javascript:": '<base href="javascript:alert(1)//"><a href="x">go</a>',
    "SVG use from another host": '<svg><use href="https://evil.example/s.svg#a"/></svg>',
    "img srcset 2x": (
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" '
        'srcset="https://evil.example/x.png 2x" alt=x>'
    ),
    "backslash host": '<img src="/\\evil.example/x.png" alt=x>',
    "CSS expression()": '<p style="width:expression(alert(1))">x</p>',
    "SVG animate values list": (
        '<svg><a><animate attributeName=href values="#;javascript:alert(1)"/></a></svg>'
    ),
    "a href data: HTML": '<a href="data:text/html,<script>alert(1)</script>">x</a>',
}

#: Markup a report may hold: must pass.
SAFE = {
    "escaped markup as text": "<p>&lt;script&gt;alert(1)&lt;/script&gt; onerror=alert(1)</p>",
    "link to a source": '<a href="https://www.canada.ca/en.html">IRCC</a>',
    "inline PNG": '<img src="data:image/png;base64,iVBORw0KGgo=" alt="Cutoffs by month">',
    "alt text that mentions javascript:": (
        '<img src="data:image/png;base64,AA" alt="javascript: x">'
    ),
    "CSV download": '<a download="draws.csv" href="data:text/csv;charset=utf-8,a%2Cb">CSV</a>',
    "relative links": '<a href="../2026-02/index.html">February</a>',
    "the site's stylesheet (named by hash in the policy)": f"<style>{stylesheet()}</style>",
    "inline SVG figure": '<svg viewBox="0 0 10 10"><rect width=10 height=10 fill="#123"/></svg>',
}


def page(payload: str, policy: bool = True) -> str:
    """A page that passes every other check, with ``payload`` in its body (and, unless
    ``policy`` is off, the site's Content-Security-Policy first in its head)."""
    meta = (
        f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy()}">'
        if policy
        else ""
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head>{meta}<meta charset="utf-8"><title>t</title>'
        f"</head><body><p>ok</p>{payload}</body></html>"
    )


@pytest.mark.parametrize("payload", [*RUNS.values(), *REFUSED_ANYWAY.values()],
                         ids=[*RUNS, *REFUSED_ANYWAY])  # fmt: skip
def test_markup_that_can_run_code_is_refused(payload):
    with pytest.raises(ReportError, match="page refused"):
        check_page(page(payload))


@pytest.mark.parametrize("payload", LOADS.values(), ids=LOADS.keys())
def test_markup_that_loads_from_another_host_is_refused(payload):
    assert external_references(page(payload)) or unsafe_markup(page(payload))
    with pytest.raises(ReportError, match="page refused"):
        check_page(page(payload))


@pytest.mark.parametrize("payload", SAFE.values(), ids=SAFE.keys())
def test_what_a_report_may_hold_passes(payload):
    check_page(page(payload))


def test_a_page_without_the_policy_first_in_its_head_is_refused():
    with pytest.raises(ReportError, match="no Content-Security-Policy"):
        check_page(page("<p>fine</p>", policy=False))
    meta = f'<meta http-equiv="Content-Security-Policy" content="{content_security_policy()}">'
    late = page("", policy=False).replace("<title>", f"{meta}<title>")
    with pytest.raises(ReportError, match="no Content-Security-Policy"):
        check_page(late)
    loose = page("").replace("default-src 'none'", "default-src 'none' https://evil.example")
    with pytest.raises(ReportError, match="default-src allows https://evil.example"):
        check_page(loose)
