// A clock moved forward by a given number of ms, for the bench's "slow API" part: the runs follow each other in
// seconds of real time, yet each must see the 5 minutes of its schedule pass (the 15-minute re-checks are due by the
// clock). The function process (child.cjs) and the bench process with the local servers move by the same offset, so
// the servers' clock-skew checks (15 minutes for CR and Tablestore, an hour for DingTalk) pass as they would for a
// real run at that time. Only Date is moved: timers and durations (performance.now, hrtime) keep real time.
'use strict';

/**
 * Replaces the global Date with one whose "now" (Date.now(), new Date(), Date()) is the real time plus `offset()`
 * ms; dates built from a value are unchanged. Returns the function that puts the real Date back.
 */
function shiftClock(offset) {
  const Real = globalThis.Date;
  const now = () => Real.now() + offset();
  function Shifted(...args) {
    if (!new.target) return new Real(now()).toString();
    return args.length === 0 ? new Real(now()) : new Real(...args);
  }
  Shifted.prototype = Real.prototype;
  Shifted.now = now;
  Shifted.parse = Real.parse;
  Shifted.UTC = Real.UTC;
  globalThis.Date = Shifted;
  return () => {
    globalThis.Date = Real;
  };
}

module.exports = { shiftClock };
