/**
 * The theme's browser entry: styles plus small, independent enhancements.
 * Pages work without it (except search and the drawer); each init is a no-op
 * when its markup is absent.
 */
import './styles/vars.css'
import './styles/base.css'
import './styles/layout.css'
import './styles/content.css'
import './styles/code-tokens.css'
import './styles/qa.css'
import './styles/custom.css'
import {initAskOpen} from './ask-open' // ask panel: the header button and shortcut (the panel loads lazily)
import {initCode} from './code'
import {initDrawer, revealCurrentNavItem} from './drawer'
import {initSearchOpen} from './search-open'
import {initTables} from './tables'
import {initTaskLists} from './task-lists'
import {initTheme} from './theme'
import {initToc} from './toc'

initTheme()
initSearchOpen()
initAskOpen() // ask panel
initDrawer()
revealCurrentNavItem()
initToc()
initCode()
initTables()
initTaskLists()
