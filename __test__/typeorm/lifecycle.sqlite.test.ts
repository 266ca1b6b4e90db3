import { describeLifecycle } from './lifecycle.js'

describeLifecycle('sqlite')
