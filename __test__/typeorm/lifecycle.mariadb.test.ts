import { describeLifecycle } from './lifecycle.js'

describeLifecycle('mariadb')
