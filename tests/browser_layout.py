"""Browser-side checks of what covers what on a page, shared by the browser tests and the
screenshot script: every line of visible text is hit-tested at several points, and whatever the
browser draws on top there (a button, an overlay, another block) is reported."""

from __future__ import annotations

# Each visible line of text in the window (text nodes' line boxes; text boxes' and buttons' own
# boxes), clipped to the window and to every scrolling box it is inside, is hit-tested at its
# left, middle and right: the topmost element there must be the text's own element, one inside
# it, or one it is inside (text that lets clicks through). Anything else lies over the text and is
# reported as {text, over}: the words (60 characters) and the covering element (tag, id, classes).
COVERED_TEXT_JS = """() => {
  const visible = el => {
    for (let e = el; e; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (style.visibility === 'hidden' || style.display === 'none' || Number(style.opacity) === 0) return false;
      if (style.clip === 'rect(0px, 0px, 0px, 0px)' || style.clipPath === 'inset(50%)') return false;  // sr-only
    }
    return true;
  };
  const clipOf = el => {  // the part of the window that el's scrolling ancestors let be seen
    let clip = {left: 0, top: 0, right: innerWidth, bottom: innerHeight};
    for (let e = el.parentElement; e && e !== document.body; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (/(auto|scroll|hidden|clip)/.test(style.overflowX + style.overflowY)) {
        const box = e.getBoundingClientRect();
        clip = {left: Math.max(clip.left, box.left), top: Math.max(clip.top, box.top),
                right: Math.min(clip.right, box.right), bottom: Math.min(clip.bottom, box.bottom)};
      }
    }
    return clip;
  };
  const lines = [];  // [element, rect, text]
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEMPLATE', 'OPTION'].includes(el.tagName)
        || !visible(el)) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const rect of range.getClientRects()) lines.push([el, rect, node.textContent]);
  }
  for (const el of document.querySelectorAll('textarea, input[type=text], input:not([type]), button')) {
    if (visible(el)) lines.push([el, el.getBoundingClientRect(), el.value || el.textContent || el.placeholder]);
  }
  const found = [];
  for (const [el, rect, text] of lines) {
    const clip = clipOf(el);
    const left = Math.max(rect.left, clip.left) + 2, right = Math.min(rect.right, clip.right) - 2;
    const top = Math.max(rect.top, clip.top), bottom = Math.min(rect.bottom, clip.bottom);
    if (right - left < 2 || bottom - top < rect.height * 0.6) continue;  // not in view (or only a sliver)
    const y = (top + bottom) / 2;
    for (const x of [left, (left + right) / 2, right]) {
      const hit = document.elementFromPoint(x, y);
      if (!hit || hit === el || el.contains(hit) || hit.contains(el)) continue;
      const classes = typeof hit.className === 'string' ? hit.className.trim().split(/\\s+/).join('.') : '';
      found.push({text: text.trim().slice(0, 60),
                  over: hit.tagName.toLowerCase() + (hit.id ? '#' + hit.id : '') + (classes ? '.' + classes : '')});
      break;
    }
  }
  return found;
}"""

# Where `selector`'s element stands against the window: {top, bottom, window} in CSS pixels.
PLACE_JS = """selector => {
  const box = document.querySelector(selector).getBoundingClientRect();
  return {top: box.top, bottom: box.bottom, window: innerHeight};
}"""
