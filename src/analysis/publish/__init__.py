"""Publishing: what a notebook may display (escaped tables, text and figures with alt text), the
safety checks every page passes, rendering to self-contained HTML, and atomic swaps into the site.
"""
