import { describeContentValidation } from './content-validation.js'

describeContentValidation('sqlite')
