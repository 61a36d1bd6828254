// The finetorch command line: each command's flags and help (commands/, no LibTorch) apart from the work it runs (run/).
export { main } from './main';
