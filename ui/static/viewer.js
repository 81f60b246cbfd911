// citebot's document viewer: a panel beside the chat that opens the cited document at the quote.
// PDFs are rendered with the bundled pdf.js (nothing is fetched from another host) at the cited page, with the quote
// highlighted on every page it spans; other documents show their loaded text with the quote marked and scrolled to.
// Document text only ever enters the page as text nodes (never as HTML), so nothing in a document runs.

const PDFJS = "/viewer/pdfjs/pdf.min.mjs";
const WORKER = "/viewer/pdfjs/pdf.worker.min.mjs";
let pdfjs = null;
let opened = 0; // each open() call; a slower earlier one must not draw over a later one

function el(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== null) node.textContent = text;
  return node;
}

function panel() {
  let root = document.getElementById("cb-viewer");
  if (root) return root;
  root = el("aside", { id: "cb-viewer", role: "dialog", "aria-label": "Document viewer" });
  const head = el("div", { class: "cb-viewer-head" });
  head.append(el("span", { class: "cb-viewer-title" }), el("button", { class: "cb-viewer-close", type: "button", "aria-label": "Close" }, "×"));
  root.append(head, el("div", { class: "cb-viewer-body" }));
  head.querySelector("button").addEventListener("click", () => {
    root.classList.remove("cb-open");
    document.body.classList.remove("cb-viewing");
  });
  document.body.append(root);
  return root;
}

function docUrl(source, what) {
  return "/api/documents/" + source.split("/").map(encodeURIComponent).join("/") + "/" + what;
}

// Pages [first, last] that text[start:end) touches, and the part on each, from the page start offsets.
function pageParts(pages, textLength, start, end) {
  const parts = [];
  for (let i = 0; i < pages.length; i++) {
    const lo = pages[i], hi = i + 1 < pages.length ? pages[i + 1] : Math.max(textLength, end);
    if (lo < end && start < hi) parts.push({ page: i + 1, start: Math.max(lo, start), end: Math.min(hi, end) });
  }
  return parts;
}

// Letters and digits only, case-folded: pypdf and pdf.js may space, break or ligature the same text differently.
function fold(ch) {
  return ch.normalize("NFKC").toLowerCase().replace(/[^\p{L}\p{N}]/gu, "");
}

// Mark `wanted` inside the text layer's spans: find it in the page's folded characters, wrap what it covers.
function highlight(divs, strings, wanted) {
  const chars = []; // [div index, char index] of each folded character
  let flat = "";
  strings.forEach((s, d) => {
    for (let k = 0; k < s.length; k++) {
      const f = fold(s[k]);
      for (const c of f) { flat += c; chars.push([d, k]); }
    }
  });
  const target = [...wanted].map(fold).join("");
  const at = target ? flat.indexOf(target) : -1;
  if (at < 0) return 0;
  const spans = new Map(); // div -> [from, to)
  for (let i = at; i < at + target.length; i++) {
    const [d, k] = chars[i];
    const r = spans.get(d) || [k, k + 1];
    spans.set(d, [Math.min(r[0], k), Math.max(r[1], k + 1)]);
  }
  const ends = [...spans.keys()], lastDiv = ends[ends.length - 1];
  const trailing = /[^\p{L}\p{N}\s]+$/u.exec(wanted.trimEnd()); // the quote's closing punctuation, e.g. "."
  if (trailing) {
    const r = spans.get(lastDiv), s = strings[lastDiv];
    if (s.slice(r[1], r[1] + trailing[0].length) === trailing[0]) r[1] += trailing[0].length;
  }
  for (const [d, [from, to]] of spans) {
    const div = divs[d], s = strings[d];
    div.replaceChildren(document.createTextNode(s.slice(0, from)), el("mark", { class: "cb-hl" }, s.slice(from, to)),
                        document.createTextNode(s.slice(to)));
  }
  return spans.size;
}

async function showPdf(body, source, info, start, end, token) {
  pdfjs = pdfjs || (await import(PDFJS));
  pdfjs.GlobalWorkerOptions.workerSrc = WORKER;
  const pdf = await pdfjs.getDocument({ url: docUrl(source, "file"), isEvalSupported: false, enableXfa: false }).promise;
  const parts = pageParts(info.locations.pages, info.text.length, start, end);
  const first = parts.length ? parts[0].page : 1, last = parts.length ? parts[parts.length - 1].page : 1;
  const from = Math.max(1, first - 1), to = Math.min(pdf.numPages, last + 1);
  const width = Math.max(300, body.clientWidth - 48);
  let target = null;
  for (let n = from; n <= to; n++) {
    if (token !== opened) return;
    const page = await pdf.getPage(n);
    const viewport = page.getViewport({ scale: width / page.getViewport({ scale: 1 }).width });
    const box = el("div", { class: "cb-page", "data-page": String(n) });
    box.style.setProperty("--total-scale-factor", String(viewport.scale));
    box.style.setProperty("--scale-factor", String(viewport.scale));
    box.style.width = viewport.width + "px";
    box.style.height = viewport.height + "px";
    const canvas = el("canvas", { width: String(Math.floor(viewport.width)), height: String(Math.floor(viewport.height)) });
    const layer = el("div", { class: "textLayer" });
    box.append(el("div", { class: "cb-page-label" }, "Page " + n + " of " + pdf.numPages), canvas, layer);
    body.append(box);
    await page.render({ canvas, canvasContext: canvas.getContext("2d"), viewport }).promise;
    const text = new pdfjs.TextLayer({ textContentSource: await page.getTextContent(), container: layer, viewport });
    await text.render();
    const part = parts.find((p) => p.page === n);
    if (part) {
      const marked = highlight(text.textDivs, text.textContentItemsStr, info.text.slice(part.start, part.end));
      box.setAttribute("data-marked", String(marked));
      if (!target) target = box;
    }
  }
  if (parts.length && !body.querySelector(".cb-hl")) {
    const note = "The quote could not be marked on the rendered page: " + info.text.slice(start, end);
    body.prepend(el("p", { class: "cb-viewer-note" }, note));
  }
  const mark = body.querySelector(".cb-page .cb-hl");
  (mark ? mark.closest(".cb-page") : target || body).scrollIntoView({ block: "start" }); // the cited page's top
  if (mark && mark.getBoundingClientRect().bottom > body.getBoundingClientRect().bottom - 40) {
    mark.scrollIntoView({ block: "center" }); // low on a tall page: bring the quote itself into view
  }
}

function showText(body, info, start, end) {
  const pre = el("div", { class: "cb-text" });
  const mark = el("mark", { class: "cb-hl" }, info.text.slice(start, end));
  pre.append(document.createTextNode(info.text.slice(0, start)), mark, document.createTextNode(info.text.slice(end)));
  body.append(pre);
  mark.scrollIntoView({ block: "center" });
}

async function open({ source, start, end, location }) {
  const token = ++opened;
  const root = panel();
  const body = root.querySelector(".cb-viewer-body");
  root.querySelector(".cb-viewer-title").textContent = source + (location ? " · " + location : "");
  body.replaceChildren(el("p", { class: "cb-viewer-note" }, "Opening…"));
  root.classList.add("cb-open");
  document.body.classList.add("cb-viewing");
  root.setAttribute("data-source", source);
  root.removeAttribute("data-ready");
  try {
    const response = await fetch(docUrl(source, "text"), { credentials: "same-origin" });
    if (!response.ok) throw new Error((await response.json()).error?.message || response.statusText);
    const info = await response.json();
    if (token !== opened) return;
    body.replaceChildren();
    if (info.type === "pdf" && info.locations.pages.length) await showPdf(body, source, info, start, end, token);
    else showText(body, info, start, end);
  } catch (err) {
    if (token === opened) body.replaceChildren(el("p", { class: "cb-viewer-note" }, "Cannot open " + source + ": " + err.message));
  }
  if (token === opened) root.setAttribute("data-ready", "1");
}

function fromLink(href) {
  const params = new URLSearchParams(href.slice(href.indexOf("?") + 1));
  return { source: params.get("source") || "", start: Number(params.get("start")), end: Number(params.get("end")),
           location: params.get("location") || "" };
}

document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest("a[href*='#cb-open?']");
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  open(fromLink(link.getAttribute("href")));
}, true);

// An exported conversation's source links open the page at ?c=ID#cb-open?...: the viewer opens at the quote.
function openFromHash() {
  if (location.hash.startsWith("#cb-open?")) open(fromLink(location.hash));
}
if (document.readyState === "complete") openFromHash(); else window.addEventListener("load", openFromHash);
window.addEventListener("hashchange", openFromHash);

window.citebotViewer = { open, pageParts, fold };
