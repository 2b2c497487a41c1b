"""The HTML transcript's own style sheet and script, and the Content-Security-Policy that allows
exactly these two and nothing else.

Both are constants so their SHA-256 can be named in the policy (``'sha256-…'``): a browser runs
only an inline ``<style>``/``<script>`` whose bytes hash to one of them. Message text is escaped
by the writer (:mod:`roamtui.export.html`), but should an escape ever fail, injected markup could
still not run a script, load an image, submit a form or reach the network: ``default-src 'none'``
and no ``'unsafe-inline'``. Inline ``style=""`` attributes are refused too, so the writer colours
parties with classes (``p0`` … ``p7``), never with style attributes.

The page is whole without the script: the recalled-only filter is a checkbox that CSS alone
reads (``.tools:has(…)~main``: anchored on the small bar, not on ``body``, whose ``:has`` made
Chromium check each of the page's million inserted nodes while parsing, a third of the time to
open 100,000 messages), and the search box is only shown once the script has run (the browser's own
find works in any case).
"""

from __future__ import annotations

import base64
import hashlib

#: Party colours (light, dark): the queried account, the peer, then others in forwards.
PARTY_COLOURS: tuple[tuple[str, str], ...] = (
    ("#1f5fa8", "#7fb4ff"),
    ("#a3461a", "#ffa36b"),
    ("#2f7d32", "#8fdc8f"),
    ("#7b3fa0", "#d4a2ff"),
    ("#8a6d00", "#f0d060"),
    ("#00707a", "#6fe0ea"),
    ("#a0225a", "#ff8ab8"),
    ("#555555", "#bbbbbb"),
)


def _party_css() -> str:
    light = "".join(f".p{i}>.who{{color:{c}}}.p{i}{{border-left-color:{c}}}"
                    for i, (c, _) in enumerate(PARTY_COLOURS))
    dark = "".join(f".p{i}>.who{{color:{c}}}.p{i}{{border-left-color:{c}}}"
                   for i, (_, c) in enumerate(PARTY_COLOURS))
    return f"{light}\n@media (prefers-color-scheme: dark){{{dark}}}\n"


STYLE = """
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1b1b;--dim:#666;--line:#ddd;--badge:#b00020;
--hit:#ffe27a;--ph:#555;--card:#f6f6f6}
@media (prefers-color-scheme: dark){:root{--bg:#16181c;--fg:#e6e6e6;--dim:#9a9a9a;--line:#333;
--badge:#ff6b7d;--hit:#7a6300;--ph:#b8b8b8;--card:#1f2227}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,
"Segoe UI",Roboto,"Noto Sans","Noto Sans CJK SC",sans-serif}
header,main,footer{max-width:60rem;margin:0 auto;padding:0 1rem}
header h1{font-size:1.25rem;margin:1rem 0 .5rem}
table.prov{border-collapse:collapse;font-size:.85rem;margin-bottom:.75rem}
table.prov th{text-align:left;font-weight:600;padding:.1rem .8rem .1rem 0;color:var(--dim);
vertical-align:top;white-space:nowrap}
table.prov td{padding:.1rem .8rem .1rem 0;overflow-wrap:anywhere}
.complete{color:#2f7d32;font-weight:700}
.partial-word{color:#b00020;font-weight:700}
.partial{background:#b00020;color:#fff;font-weight:700;padding:.5rem .8rem;border-radius:.3rem;
margin:.5rem 0}
.tools{position:sticky;top:0;z-index:1;background:var(--bg);border-bottom:1px solid var(--line);
padding:.4rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap;font-size:.9rem;
max-width:60rem;margin:0 auto}
.tools input[type=search]{font:inherit;padding:.15rem .4rem;min-width:14rem}
#rt-count{color:var(--dim)}
h2.day{font-size:.85rem;font-weight:600;color:var(--dim);text-align:center;margin:1.2rem 0 .4rem;
border-bottom:1px solid var(--line);line-height:0;padding:0}
h2.day span{background:var(--bg);padding:0 .6rem}
.blk{content-visibility:auto;contain-intrinsic-size:auto 9000px}
.msg{border-left:3px solid var(--line);padding:.15rem 0 .15rem .6rem;margin:.25rem 0;
font-size:.8rem}
.msg>.body{font-size:15px}
.msg:target{background:var(--hit)}
.meta{font-size:.8rem;color:var(--dim)}
a.t{color:var(--dim);text-decoration:none;font-variant-numeric:tabular-nums}
a.t:hover{text-decoration:underline}
.who{font-weight:600;margin:0 .35rem}
.badge{color:#fff;background:var(--badge);border-radius:.25rem;padding:0 .3rem;font-size:.75rem;
font-weight:700;text-transform:uppercase}
.read{color:#2f7d32;font-size:.75rem;margin-left:.35rem}
.body{white-space:pre-wrap;overflow-wrap:anywhere}
.recalled>.body{opacity:.75}
.ph{color:var(--ph);font-style:italic}
.url{font-family:ui-monospace,monospace;font-size:.8rem;color:var(--dim);overflow-wrap:anywhere}
.cc{font-size:.8rem;color:var(--dim);font-family:ui-monospace,monospace;overflow-wrap:anywhere}
.none{color:var(--dim);font-style:italic}
details.fwd{background:var(--card);border-radius:.3rem;padding:.2rem .5rem;margin:.2rem 0}
details.fwd summary{cursor:pointer}
details.fwd ol{margin:.3rem 0;padding-left:1.2rem}
.problems{color:var(--badge);font-size:.8rem}
footer{border-top:1px solid var(--line);margin-top:1.5rem;padding:.6rem 1rem 2rem;
font-size:.85rem;color:var(--dim)}
.tools:has(#rt-recalled:checked)~main .msg:not(.recalled){display:none}
.tools:has(#rt-recalled:checked)~main h2.day{display:none}
.rt-searching .msg:not(.rt-match),.rt-searching h2.day{display:none}
.rt-hit{outline:2px solid var(--badge)}
.msg.marked{box-shadow:inset 4px 0 0 #d08a00}
.mark{color:#8a5a00;font-size:.75rem;font-weight:700;margin-left:.35rem}
.note{background:var(--card);border-left:3px solid #d08a00;border-radius:.2rem;padding:.2rem .5rem;
margin:.25rem 0;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.9rem}
.note b{color:#8a5a00}
.selection{border:2px solid #d08a00;border-radius:.3rem;padding:.4rem .6rem;font-weight:600}
@media print{
.tools{display:none}
body,.msg>.body{background:#fff;color:#000;font-size:10.5pt}
.blk{content-visibility:visible}
.msg{break-inside:avoid;border-left-color:#999}
.msg:target{background:none}
details.fwd{background:none;border:1px solid #ccc}
details.fwd::details-content{content-visibility:visible;display:block}
.partial{border:3px solid #b00020;background:none;color:#b00020}
.badge{border:1px solid #b00020;color:#b00020;background:none}
a{color:#000;text-decoration:none}
.rt-searching .msg:not(.rt-match){display:block}
}
""" + _party_css()

# The search: a word or phrase, case-insensitive, over each message's text (placeholders,
# URLs and forwarded messages included). Texts are read once, in slices when the browser is
# idle after the page has loaded, so they never hold up its first frame (a first search reads
# what is left); only the
# hits get a class (the misses are hidden by one class on <main>), so a search costs DOM writes
# in proportion to its hits, not to the 100,000 messages. Enter / Shift+Enter step through.
SCRIPT = """
(function(){
"use strict";
var box=document.getElementById("rt-search"),out=document.getElementById("rt-count"),
form=document.getElementById("rt-find"),main=document.getElementById("rt-messages");
if(!box||!out||!form||!main){return;}
form.hidden=false;
var msgs=main.getElementsByTagName("article"),texts=[],hits=[],at=-1,timer=0;
function read(upto){
  for(var i=texts.length;i<upto;i++){texts.push(msgs[i].textContent.toLowerCase());}}
var later=window.requestIdleCallback||function(f){return setTimeout(f,50);};
function idle(d){
  do{read(Math.min(msgs.length,texts.length+500));}
  while(texts.length<msgs.length&&d&&d.timeRemaining&&d.timeRemaining()>2);
  if(texts.length<msgs.length){later(idle);}}
window.addEventListener("load",function(){later(idle);});
function run(){
  var q=box.value.trim().toLowerCase(),i;
  read(msgs.length);
  for(i=0;i<hits.length;i++){hits[i].classList.remove("rt-match","rt-hit");}
  hits=[];at=-1;
  if(q===""){main.classList.remove("rt-searching");out.textContent="";return;}
  for(i=0;i<texts.length;i++){if(texts[i].indexOf(q)!==-1){hits.push(msgs[i]);}}
  for(i=0;i<hits.length;i++){hits[i].classList.add("rt-match");}
  main.classList.add("rt-searching");
  out.textContent=hits.length+" of "+msgs.length+" messages";
}
function step(back){
  if(!hits.length){return;}
  if(at>=0){hits[at].classList.remove("rt-hit");}
  at=(at+(back?hits.length-1:1))%hits.length;
  hits[at].classList.add("rt-hit");
  hits[at].scrollIntoView({block:"center"});
  out.textContent=(at+1)+"/"+hits.length+" ("+hits.length+" of "+msgs.length+" messages)";
}
var opened=[];
window.addEventListener("beforeprint",function(){
  opened=Array.prototype.filter.call(document.querySelectorAll("details.fwd"),
    function(d){return !d.open;});
  opened.forEach(function(d){d.open=true;});});
window.addEventListener("afterprint",function(){opened.forEach(function(d){d.open=false;});});
box.addEventListener("input",function(){clearTimeout(timer);timer=setTimeout(run,150);});
box.addEventListener("keydown",function(e){
  if(e.key==="Enter"){e.preventDefault();clearTimeout(timer);
    if(!main.classList.contains("rt-searching")){run();}step(e.shiftKey);}
  else if(e.key==="Escape"){box.value="";run();}
});
})();
"""


def _sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


#: No network, no plugins, no frames, no forms; only this page's own style and script.
CSP = (
    "default-src 'none'; "
    f"style-src {_sha256_source(STYLE)}; "
    f"script-src {_sha256_source(SCRIPT)}; "
    "img-src 'none'; media-src 'none'; font-src 'none'; connect-src 'none'; "
    "object-src 'none'; frame-src 'none'; child-src 'none'; worker-src 'none'; "
    "manifest-src 'none'; form-action 'none'; base-uri 'none'"
)
