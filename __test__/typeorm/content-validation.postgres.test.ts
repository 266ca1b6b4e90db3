import { describeContentValidation } from './content-validation.js'

describeContentValidation('postgres')
