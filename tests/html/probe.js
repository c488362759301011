// Appended (inside a <script>) to a copy of an HTML report by
// tests/e2e/html.bats: measures the laid-out page in the browser and
// leaves the facts as JSON in <pre id="probe">, which --dump-dom carries
// out.  The report itself has no scripts; only the copy does.
(function () {
	var doc = document.documentElement;
	var rect = function (el) { return el ? el.getBoundingClientRect() : null; };
	var fails = Array.prototype.slice.call(document.querySelectorAll('article.result.fail'));
	var passes = Array.prototype.slice.call(document.querySelectorAll('details.result.pass'));
	var firstFail = rect(fails[0]), firstPass = rect(passes[0]);
	var barFail = document.querySelector('.bar-fail');
	var barPass = document.querySelector('.bar-pass');
	var facts = {
		viewportWidth: window.innerWidth,
		scrollWidth: doc.scrollWidth,
		bodyFontPx: parseFloat(getComputedStyle(document.body).fontSize),
		failCount: fails.length,
		passCount: passes.length,
		failsVisible: fails.every(function (a) { return a.offsetHeight > 0; }),
		failErrorsVisible: fails.every(function (a) {
			var e = a.querySelector('.errors');
			return e !== null && e.offsetHeight > 0;
		}),
		passesClosed: passes.every(function (d) {
			var meta = d.querySelector('.meta');
			var shown = meta === null ? true :
				meta.checkVisibility ? meta.checkVisibility() : meta.getClientRects().length > 0;
			return !d.open && meta !== null && !shown;
		}),
		passSummariesVisible: passes.every(function (d) {
			return d.querySelector('summary').offsetHeight > 0;
		}),
		failsAbovePasses: !firstFail || !firstPass || firstFail.bottom <= firstPass.top,
		barFailWidth: barFail ? barFail.offsetWidth : 0,
		barPassWidth: barPass ? barPass.offsetWidth : 0,
		verdict: (document.querySelector('.verdict') || {}).textContent || '',
		provenance: {}
	};
	// What the header shows of what was tested: only values laid out with
	// a size count as shown.
	Array.prototype.forEach.call(document.querySelectorAll('#summary dl.provenance dd'), function (dd) {
		if (dd.offsetHeight > 0 && dd.offsetWidth > 0)
			facts.provenance[dd.className] = dd.textContent;
	});
	// Headless windows have a minimum width above a phone's, so the page is
	// also laid out 360 CSS px wide, the narrowest common phone, and must
	// not overflow there.
	doc.style.width = '360px';
	facts.narrowWidth = 360;
	facts.narrowScrollWidth = document.body.scrollWidth + (parseFloat(getComputedStyle(document.body).marginLeft) || 0);
	doc.style.width = '';
	var pre = document.createElement('pre');
	pre.id = 'probe';
	pre.textContent = JSON.stringify(facts);
	document.body.appendChild(pre);
})();
