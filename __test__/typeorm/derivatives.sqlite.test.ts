import { describeDerivatives } from './derivatives.js'

describeDerivatives('sqlite')
