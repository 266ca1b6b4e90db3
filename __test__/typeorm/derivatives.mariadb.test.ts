import { describeDerivatives } from './derivatives.js'

describeDerivatives('mariadb')
