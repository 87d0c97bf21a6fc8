export const handler = async () => ({ todo: 'sweep' });
