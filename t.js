require('reflect-metadata');
const tf = require('@tensorflow/tfjs'); require('@tensorflow/tfjs-backend-wasm');
const { compile } = require('./dist/src/compile/compile.js');
const { ZOO, zooSampleInputs } = require('./dist/src/zoo/index.js');
(async () => { tf.env().set('PROD', true);
 for (const backend of ['wasm']) { await tf.setBackend(backend);
  for (const name of Object.keys(ZOO)) for (const batch of [1, 32]) {
    const entry = ZOO[name]; const m = entry.build(); const xs = zooSampleInputs(entry, batch, 1);
    const n0 = tf.memory().numTensors;
    const c = compile(m, { sampleInputs: xs, logger: console });
    const st = c.stats();
    const t = (f) => { const o = f(); (Array.isArray(o)?o:[o]).forEach(x=>x.dataSync()); tf.dispose(o); };
    const A=[],B=[]; for (let i=0;i<5;i++){t(()=>m.predict(xs));t(()=>c.predict(xs));}
    for (let i=0;i<60;i++){ let s=performance.now(); t(()=>m.predict(xs.length===1?xs[0]:xs)); A.push(performance.now()-s); s=performance.now(); t(()=>c.predict(xs.length===1?xs[0]:xs)); B.push(performance.now()-s);}
    A.sort((a,b)=>a-b); B.sort((a,b)=>a-b);
    const s0 = st.compiled[0];
    console.log(backend, name, batch, 'predict', A[30].toFixed(3), 'compiled', B[30].toFixed(3), 'ratio', (A[30]/B[30]).toFixed(2), s0 ? `${s0.kernelsTraced}->${s0.kernelsAfterPasses} ${s0.executorReason}` : JSON.stringify(st.eager));
    c.dispose(); m.dispose(); tf.dispose(xs); console.log('leak', tf.memory().numTensors - n0);
  }}
})();
