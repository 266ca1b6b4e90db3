import { describeDerivatives } from './derivatives.js'

describeDerivatives('postgres')
