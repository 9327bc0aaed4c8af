// Progressive extras for the field app. Every form works without this file.
//  - The language control submits as soon as a language is picked.
//  - The sync panel refreshes itself, and "Sync now" shows a live progress bar.
//  - The enrol screen scans the console's QR code with the camera, where the browser has
//    BarcodeDetector.

const $ = (sel, root = document) => root.querySelector(sel)

for (const form of document.querySelectorAll('form[data-autosubmit]')) {
  const select = form.querySelector('select')
  if (select) select.addEventListener('change', () => form.requestSubmit())
}

// ---- sync status ----
const panel = $('[data-sync-panel]')
if (panel) {
  const set = (name, text) => {
    const el = $(`[data-sync="${name}"]`, panel)
    if (el && el.textContent !== text) el.textContent = text
  }
  const show = (v) => {
    set('pending', v.pending_text)
    set('last', v.last_text)
    set('state', v.state_text)
    const bar = $('[data-sync="progress"]', panel)
    if (v.percent >= 0) bar.value = v.percent
    else bar.removeAttribute('value')
    const problem = $('[data-sync="problem"]', panel)
    problem.textContent = v.problem || ''
    problem.hidden = !v.problem
  }
  let timer = null
  const poll = async (fast) => {
    clearTimeout(timer)
    try {
      const res = await fetch('/sync/status', { headers: { Accept: 'application/json' } })
      if (res.ok) {
        const v = await res.json()
        show(v)
        fast = v.running
      }
    } catch (e) { /* the app server went away: try again later */ }
    timer = setTimeout(() => poll(false), fast ? 300 : 5000)
  }
  const form = $('form[data-sync-form]', panel)
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    const button = $('button', form)
    button.disabled = true
    try {
      const res = await fetch('/sync', {
        method: 'POST',
        headers: { Accept: 'application/json', 'X-CSRF-Token': form.elements.csrf.value },
      })
      if (res.ok) show(await res.json())
    } catch (e) { /* shown by the next poll */ }
    button.disabled = false
    poll(true)
  })
  timer = setTimeout(() => poll(false), 5000)
}

// ---- QR scan on the enrol screen ----
const scan = $('[data-scan]')
if (scan && 'BarcodeDetector' in window && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
  scan.hidden = false
  const video = $('[data-scan-video]', scan)
  const status = $('[data-scan-status]', scan)
  const fill = (text) => {
    // The QR code holds a link with the server and the code, or JSON with both: the server
    // parses it (ParseEnrolment) when it is put in the server address field.
    try {
      const j = JSON.parse(text)
      if (j && j.code) {
        $('#server').value = j.server || j.url || ''
        $('#code').value = j.code
        return true
      }
    } catch (e) { /* not JSON */ }
    try {
      const u = new URL(text)
      const code = u.searchParams.get('code') || new URLSearchParams(u.hash.slice(1)).get('code')
      if (!code) return false
      let server = u.searchParams.get('server')
      if (!server) {
        let path = u.pathname
        for (const cut of ['/console/', '/enrol', '/v1/']) {
          const i = path.indexOf(cut)
          if (i >= 0) path = path.slice(0, i)
        }
        server = u.origin + path.replace(/\/+$/, '')
      }
      $('#server').value = server
      $('#code').value = code
      return true
    } catch (e) {
      return false
    }
  }
  $('[data-scan-start]', scan).addEventListener('click', async () => {
    let stream
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } })
    } catch (e) {
      status.textContent = scan.dataset.noCamera || ''
      return
    }
    const detector = new window.BarcodeDetector({ formats: ['qr_code'] })
    video.srcObject = stream
    video.hidden = false
    await video.play()
    const stop = () => { stream.getTracks().forEach((t) => t.stop()); video.hidden = true }
    const tick = async () => {
      try {
        const codes = await detector.detect(video)
        for (const c of codes) {
          if (fill(c.rawValue)) {
            stop()
            status.textContent = scan.dataset.found || ''
            $('#code').focus()
            return
          }
        }
      } catch (e) { /* frame not ready */ }
      requestAnimationFrame(tick)
    }
    tick()
  })
}
