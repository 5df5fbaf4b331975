export default function register() {}
