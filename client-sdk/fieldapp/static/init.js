// Starts NHS.UK frontend's components. A module file of its own: the CSP allows no inline
// script.
import { initAll } from './nhsuk/nhsuk-frontend.min.js'

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')
initAll()
