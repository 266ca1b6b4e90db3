import { describeLifecycle } from './lifecycle.js'

describeLifecycle('postgres')
