# ruff: noqa: E501 - CSS reads better one rule a line than wrapped at 100 columns
"""The report's stylesheet: inline, system fonts only, light and dark, print-friendly."""

from __future__ import annotations

from typing import Final

CSS: Final = """
:root{--bg:#f5f6fa;--card:#fff;--ink:#0f172a;--muted:#64748b;--line:#e2e8f0;--track:#eef2f7;
--accent:#4f46e5;--hash:#b45309;--shadow:0 1px 2px rgba(15,23,42,.06),0 4px 16px rgba(15,23,42,.06);
color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0b1020;--card:#141a2e;--ink:#e5e7eb;--muted:#94a3b8;
--line:#243049;--track:#1e2740;--hash:#f59e0b;--shadow:none}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:.9em;
overflow-wrap:anywhere}
.top{display:flex;flex-wrap:wrap;gap:12px 32px;align-items:flex-end;justify-content:space-between;
max-width:1200px;margin:0 auto;padding:32px 24px 8px}
.eyebrow{margin:0;text-transform:uppercase;letter-spacing:.12em;font-size:12px;color:var(--accent);
font-weight:700}
h1{margin:2px 0 4px;font-size:30px;letter-spacing:-.02em}
.period{margin:0;font-size:15px}
nav{display:flex;flex-wrap:wrap;gap:6px}
nav a{color:var(--ink);text-decoration:none;font-size:13px;padding:4px 10px;border-radius:999px;
background:var(--card);box-shadow:var(--shadow);border:1px solid var(--line)}
main{max-width:1200px;margin:0 auto;padding:16px 24px 48px;display:grid;gap:20px}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(190px,1fr));gap:14px}
.kpi{background:var(--card);border-radius:14px;padding:16px 18px;box-shadow:var(--shadow);
border:1px solid var(--line);border-top:4px solid var(--accent)}
.kpi:nth-child(2){border-top-color:#0d9488}.kpi:nth-child(3){border-top-color:#d97706}
.kpi:nth-child(4){border-top-color:#0284c7}.kpi:nth-child(5){border-top-color:#e11d48}
.kpi-title{font-size:12px;text-transform:uppercase;letter-spacing:.08em;color:var(--muted);font-weight:600}
.kpi-value{font-size:28px;font-weight:750;margin:4px 0 2px;overflow-wrap:anywhere}
.kpi-sub{font-size:13px;color:var(--muted)}
.two{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:20px}
.card{background:var(--card);border-radius:16px;padding:20px 22px;box-shadow:var(--shadow);
border:1px solid var(--line);min-width:0}
.card header{display:flex;align-items:center;gap:10px}
.qnum{display:inline-grid;place-items:center;width:28px;height:28px;border-radius:50%;
background:var(--accent);color:#fff;font-weight:700;font-size:14px;flex:none}
h2{margin:0;font-size:19px}
h3{margin:18px 0 8px;font-size:14px;text-transform:uppercase;letter-spacing:.08em;color:var(--muted)}
h4{margin:0 0 6px;font-size:14px}
.answer{font-size:16px;margin:10px 0 14px;overflow-wrap:anywhere}
.based{margin:14px 0 0;font-size:12px;color:var(--muted)}
.muted{color:var(--muted)}.small{font-size:12.5px}
.empty{color:var(--muted);font-style:italic}
.chart{width:100%;height:auto;display:block}
.chart text{font-size:13px;fill:var(--ink)}
.chart .axis{font-size:12px;fill:var(--muted)}
.chart .val{font-weight:600}
.chart .grid{stroke:var(--line);stroke-width:1}
.chart .track,.meter .track{fill:var(--track)}
.funnel-text{font-weight:700;font-size:15px!important;fill:#fff!important;
paint-order:stroke;stroke:rgba(15,23,42,.55);stroke-width:3px}
.meter{flex:none;vertical-align:middle}
.meter .nodata{fill:none;stroke:var(--muted);stroke-dasharray:3 3;stroke-width:1}
.rate{display:flex;align-items:center;gap:8px;flex-wrap:wrap}
.rate strong{min-width:3.2em}
.nodata-text{color:var(--muted);font-style:italic;font-size:13px}
.tbl{width:100%;border-collapse:collapse;font-size:14px;margin-top:6px}
.tbl th{text-align:left;font-size:12px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted);
font-weight:600;padding:6px 8px;border-bottom:1px solid var(--line)}
.tbl td{padding:7px 8px;border-bottom:1px solid var(--line);vertical-align:middle;overflow-wrap:anywhere}
.tbl tr:last-child td{border-bottom:0}
.num{text-align:right!important;font-variant-numeric:tabular-nums;white-space:nowrap}
.arrow{color:var(--muted);width:1em}
.chip{display:inline-flex;flex-wrap:wrap;align-items:center;gap:0 6px;padding:2px 10px 2px 8px;border-radius:999px;
background:color-mix(in srgb,var(--c) 14%,transparent);border:1px solid color-mix(in srgb,var(--c) 40%,transparent);
font-weight:600;font-size:13px}
.rid{font-weight:400;color:var(--muted);font-size:11.5px}
.hashed{color:var(--hash)}
.grid-roles{display:grid;grid-template-columns:repeat(auto-fill,minmax(230px,1fr));gap:14px}
.per-role ol{list-style:none;margin:0;padding:0}
.per-role li{display:grid;grid-template-columns:minmax(0,1fr) 70px 3em;gap:8px;align-items:center;
font-size:13.5px;padding:2px 0}
.cmd{overflow-wrap:anywhere;min-width:0}
.minibar{display:block;height:8px;background:var(--track);border-radius:4px;overflow:hidden}
.minibar span{display:block;height:100%;border-radius:4px}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;font-size:13px;margin-bottom:8px}
.key{display:inline-flex;align-items:center;gap:6px}
.swatch{width:12px;height:12px;border-radius:3px;display:inline-block}
.scroll{overflow-x:auto}
.hbars{display:grid;gap:6px;margin:4px 0}
.hbar{display:grid;grid-template-columns:minmax(5em,max-content) minmax(40px,1fr) auto;gap:10px;align-items:center;font-size:13.5px}
.hbar .lbl{text-align:right;overflow-wrap:anywhere;max-width:16em}
.hbar .track{display:block;height:18px;background:var(--track);border-radius:4px;overflow:hidden}
.hbar .fill{display:block;height:100%;border-radius:4px}
.hbar .val{font-weight:600;white-space:nowrap;font-variant-numeric:tabular-nums}
.funnel{display:grid;gap:8px;margin:6px 0 10px}
.funnel .stage{position:relative;display:flex;justify-content:center;align-items:center;min-height:36px}
.funnel .bar{position:absolute;top:0;bottom:0;left:50%;transform:translateX(-50%);border-radius:8px}
.funnel .figure{position:relative;font-weight:700;font-size:15px;color:#fff;
text-shadow:0 0 3px rgba(15,23,42,.9),0 0 1px rgba(15,23,42,.9)}
.columns.narrow{display:none}
.privacy ul{margin:8px 0;padding-left:20px}.privacy li{margin:4px 0}
@media (max-width:640px){.top{padding:20px 14px 4px}main{padding:12px 14px 32px}
.two{grid-template-columns:1fr}h1{font-size:24px}.card{padding:16px}
.columns.wide{display:none}.columns.narrow{display:block}
.hbar{grid-template-columns:minmax(4em,38%) minmax(30px,1fr) auto;gap:8px}
.tbl thead{display:none}.tbl,.tbl tbody,.tbl tr{display:block;width:100%}
.tbl tr{padding:8px 0;border-bottom:1px solid var(--line)}.tbl tr:last-child{border-bottom:0}
.tbl td{display:flex;justify-content:space-between;align-items:center;gap:12px;border:0;padding:3px 0;
text-align:right;min-width:0}
.tbl td::before{content:attr(data-label);color:var(--muted);font-size:12px;text-align:left;flex:none;
max-width:45%}
.tbl td.arrow{display:none}.tbl .rate{justify-content:flex-end}.tbl .meter{width:72px}}
@media print{:root{--bg:#fff;--card:#fff;--ink:#000;--shadow:none}
body{font-size:12px}nav{display:none}.card,.kpi{break-inside:avoid;box-shadow:none}
main{padding:0 8px}.two{grid-template-columns:1fr 1fr}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
"""
